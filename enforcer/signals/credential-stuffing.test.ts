/** The credential-stuffing views, learned and read through both stores (a real Redis for one). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedisServer } from '../../test/support/redis-server.ts';
import { testContext } from '../../test/support/request-context.ts';
import { learn } from '../../test/support/signal-harness.ts';
import type { RequestContext } from '../context/request-context.ts';
import { UNKNOWN_LOCATION } from '../geo/geo-lookup.ts';
import { MemoryStateStore } from '../state/memory-store.ts';
import { RedisStateStore } from '../state/redis-store.ts';
import { countAt, StatePlan } from '../state/slots.ts';
import type { StateStore } from '../state/state-store.ts';
import { credentialStuffing } from './credential-stuffing.ts';
import type { CompiledSignal, Outcome } from './signal.ts';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await (redis as RedisServer & { destroy(): Promise<void> }).destroy();
});

const T0 = 1_900_000_000_000;
const LOGIN = { accountField: 'username', passwordField: 'password', failureStatuses: new Set([401]) };
const FAILED: Outcome = {
  status: 401,
  bytes: 0,
  blocked: false,
  enforced: 'allow',
  owner: false,
  accepted: false,
};

const signal = credentialStuffing.compile(
  {
    weight: 70,
    window: '1m',
    thresholds: {
      perIp: 10,
      perAsn: 50,
      perAccount: 5,
      perCredential: 3,
      global: 500,
      distinctAccountsPerIp: 5,
    },
  },
  { baseDir: '.', previous: undefined, sharedFeeds: undefined, onFeedChange: undefined },
) as CompiledSignal;

function attempt(ip: string, account: string, now: number): RequestContext {
  return testContext({
    method: 'POST',
    path: '/login',
    route: { name: 'login', login: LOGIN } as unknown as RequestContext['route'],
    client: { ip, family: 4, words: new Uint32Array(4) },
    location: { ...UNKNOWN_LOCATION, asn: 64500 },
    riskSubject: account,
    login: { account, credential: `${account}-pw` },
    now,
  });
}

const stores: [string, () => Promise<StateStore>][] = [
  ['memory', async () => new MemoryStateStore()],
  [
    'redis',
    async () => {
      const store = new RedisStateStore({ url: redis.url, scope: 'cs/test', local: new MemoryStateStore() });
      while (!store.connected) await new Promise((r) => setTimeout(r, 20));
      return store;
    },
  ],
];

describe.each(stores)('credential stuffing views (%s)', (_name, make) => {
  it('counts failures per IP, ASN, account, credential, globally, and accounts per IP', async () => {
    const store = await make();
    for (const [ip, account] of [
      ['10.0.0.1', 'alice'],
      ['10.0.0.1', 'bob'],
      ['10.0.0.2', 'alice'],
    ] as const) {
      learn(signal, store, attempt(ip, account, T0), FAILED);
    }
    const ctx = attempt('10.0.0.1', 'alice', T0 + 1000);
    const plan = new StatePlan();
    const slots = signal.plan!(ctx, plan) as Record<string, number>;
    const view = await store.read(plan, ctx.now);
    const counts = Object.fromEntries(
      ['ip', 'asn', 'account', 'credential', 'global', 'accounts'].map((k) => [k, countAt(view, slots[k]!)]),
    );
    expect(counts).toEqual({ ip: 2, asn: 3, account: 2, credential: 2, global: 3, accounts: 2 });
    await store.close();
  });
});
