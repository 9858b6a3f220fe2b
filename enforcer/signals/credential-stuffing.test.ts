/**
 * The login views as an attacker would try to turn them: failures in an owner's name, refused
 * attempts fed back as failures, a noisy neighbour on the owner's network, addresses rotated
 * inside one IPv6 /64, a spray too slow for an absolute count — against both stores (a real
 * Redis for one), scored and decided as the request path does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedisServer } from '../../test/support/redis-server.ts';
import { testContext } from '../../test/support/request-context.ts';
import { ClientIpResolver } from '../context/client-ip.ts';
import { accountId } from '../context/login-attempt.ts';
import type { RequestContext } from '../context/request-context.ts';
import { type Decision, decideContributions } from '../decision/decide.ts';
import { thresholdsFor } from '../decision/thresholds.ts';
import { UNKNOWN_LOCATION } from '../geo/geo-lookup.ts';
import { IpRangeSet } from '../net/ip-range-set.ts';
import type { CompiledRoute } from '../routing/route.ts';
import { MemoryStateStore } from '../state/memory-store.ts';
import { RedisStateStore } from '../state/redis-store.ts';
import { countAt, StatePlan, StateWrites } from '../state/slots.ts';
import type { StateStore } from '../state/state-store.ts';
import { type CredentialStuffingSignal, credentialStuffing } from './credential-stuffing.ts';
import { type LoginFamiliaritySignal, loginFamiliarity } from './login-familiarity.ts';
import type { CompiledSignal, Contribution, Outcome } from './signal.ts';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await (redis as RedisServer & { destroy(): Promise<void> }).destroy();
});

const T0 = 1_900_000_000_000;
const MINUTE = 60_000;
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0';
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/140.0 Safari/537.36';
const compileCtx = { baseDir: '.', previous: undefined, sharedFeeds: undefined, onFeedChange: undefined };
const ROUTE: CompiledRoute = {
  name: 'login',
  sensitivity: 'high',
  thresholds: thresholdsFor({ challenge: 40, restrict: 60, deny: 80 }, 'high'), // 25 / 45 / 65
  authRequired: false,
  requiredScopes: [],
  requiredClaims: [],
  login: { accountField: 'username', passwordField: 'password', failureStatuses: new Set([401]) },
  failMode: 'open',
  allowedMethods: undefined,
};
const resolver = new ClientIpResolver(IpRangeSet.empty(), 'x-forwarded-for', 64);

interface Attempt {
  ip: string;
  account: string;
  password?: string;
  asn?: number;
  country?: string;
  agent?: string;
}

function attempt(a: Attempt, now: number): RequestContext {
  const account = a.account.toLowerCase();
  return testContext({
    method: 'POST',
    path: '/login',
    route: ROUTE,
    client: resolver.resolve(a.ip, undefined),
    location: { ...UNKNOWN_LOCATION, asn: a.asn ?? 64500, country: a.country ?? 'DE' },
    userAgent: a.agent ?? FIREFOX,
    headers: {},
    httpVersion: '1.1',
    riskSubject: account,
    login: { account, accountId: accountId(account), credential: `${account}:${a.password ?? 'wrong'}` },
    now,
  });
}

/** A login route with both login signals, in front of an app that knows one password per account. */
class LoginWorld {
  readonly store: StateStore;
  readonly signals: CompiledSignal[];
  now = T0;

  constructor(store: StateStore, settings: Record<string, unknown> = {}) {
    this.store = store;
    this.signals = [
      credentialStuffing.compile(
        {
          weight: 70,
          window: '10m',
          thresholds: {
            perIp: 10,
            perAsn: 50,
            perAccount: 5,
            perCredential: 3,
            global: 500,
            distinctAccountsPerIp: 5,
          },
          wave: { factor: 5, floor: 10 },
          ...settings,
        },
        compileCtx,
      ) as CompiledSignal,
      loginFamiliarity.compile({ weight: 30 }, compileCtx) as CompiledSignal,
    ];
  }

  /** One attempt through plan, one read, score, decision; then what the app and the enforcer did. */
  async try(
    a: Attempt,
    passwords: Record<string, string> = {},
  ): Promise<{ decision: Decision; codes: string[] }> {
    this.now += 1000;
    const ctx = attempt(a, this.now);
    const plan = new StatePlan();
    const slots = this.signals.map((s) => s.plan?.(ctx, plan));
    const view = await this.store.read(plan, ctx.now);
    const out: Contribution[] = [];
    const memos = this.signals.map((s, i) => s.score(ctx, view, slots[i], out));
    const decision = decideContributions(out, ROUTE.thresholds);
    const blocked = decision !== 'allow';
    const right = passwords[ctx.login!.account] !== undefined && passwords[ctx.login!.account] === a.password;
    const status = blocked ? 0 : right ? 200 : 401;
    const outcome: Outcome = {
      status,
      bytes: 0,
      blocked,
      enforced: blocked ? decision : 'allow',
      owner: status === 200,
      accepted: status === 200,
    };
    const writes = new StateWrites();
    for (const [i, s] of this.signals.entries()) s.learn?.(ctx, outcome, memos[i], writes);
    this.store.apply(writes, ctx.now);
    return { decision, codes: out.map((c) => c.code) };
  }

  async counts(a: Attempt) {
    const ctx = attempt(a, this.now);
    const plan = new StatePlan();
    const slots = this.signals[0]!.plan!(ctx, plan) as Record<string, number>;
    const view = await this.store.read(plan, ctx.now);
    return Object.fromEntries(
      ['client', 'asn', 'account', 'credential', 'route', 'accounts'].map((k) => [
        k,
        slots[k] === -1 ? 0 : countAt(view, slots[k]!),
      ]),
    );
  }
}

const CAROL = { ip: '91.64.10.7', account: 'carol', password: 'carol-secret', asn: 3209, agent: FIREFOX };
const PASSWORDS = { carol: 'carol-secret', dave: 'dave-secret' };

let scope = 0;
const stores: [string, () => Promise<StateStore>][] = [
  ['memory', async () => new MemoryStateStore()],
  [
    'redis',
    async () => {
      const store = new RedisStateStore({
        url: redis.url,
        scope: `login/${++scope}`,
        local: new MemoryStateStore(),
      });
      while (!store.connected) await new Promise((r) => setTimeout(r, 20));
      return store;
    },
  ],
];

describe.each(stores)('login views (%s store)', (_name, make) => {
  let store: StateStore;
  beforeAll(async () => {
    store = await make();
  });
  afterAll(() => store.close());

  it('refused attempts count against the hammering client, never against the account, pair or network', async () => {
    const world = new LoginWorld(store);
    const attacker = { ip: '198.18.0.5', account: 'erin', password: 'guess', asn: 64511 };
    const decisions: Decision[] = [];
    for (let i = 0; i < 30; i++) decisions.push((await world.try(attacker)).decision);
    expect(decisions.slice(-5).every((d) => d !== 'allow')).toBe(true); // the client is stopped
    const counts = await world.counts(attacker);
    const failedAtApp = decisions.filter((d) => d === 'allow').length;
    // Only what the app refused counts against erin, her pair and the network.
    expect(counts['account']).toBe(failedAtApp);
    expect(counts['credential']).toBe(failedAtApp);
    expect(counts['asn']).toBe(failedAtApp);
    expect(failedAtApp).toBeLessThan(30);
    // The client and the route count every one of them.
    expect(counts['client']).toBe(30);
    expect(counts['route']).toBe(30);
  });

  it('the owner logs in from home while her account is attacked from many addresses', async () => {
    const world = new LoginWorld(store);
    for (let i = 0; i < 3; i++) expect((await world.try(CAROL, PASSWORDS)).decision).toBe('allow');
    // 60 wrong passwords on carol from 60 addresses of other networks.
    for (let i = 0; i < 60; i++) {
      await world.try({
        ip: `100.${64 + (i % 50)}.${i}.9`,
        account: 'carol',
        password: `guess-${i % 3}`,
        asn: 7000 + i,
      });
    }
    const during = await world.try(CAROL, PASSWORDS);
    expect(during.decision).toBe('allow');
    // A stranger with her password, from a place her account does not know, is challenged, not denied.
    const stranger = await world.try({
      ...CAROL,
      ip: '45.77.12.9',
      asn: 20473,
      country: 'JP',
      agent: CHROME,
    });
    expect(stranger.decision).toBe('challenge');
    expect(stranger.codes).toContain('auth.credential_stuffing.account');
  });

  it('50 failures from one address deny that address, not its neighbours on the same network', async () => {
    const world = new LoginWorld(store);
    const neighbours = [0, 1, 2, 3].map((i) => ({
      ip: `73.12.${i}.20`,
      account: `neighbour${i}`,
      password: 'pw',
      asn: 7922,
    }));
    const known = neighbours.slice(0, 2);
    for (const n of known) await world.try(n, { [n.account]: 'pw' });
    const decisions: Decision[] = [];
    for (let i = 0; i < 50; i++) {
      decisions.push(
        (await world.try({ ip: '73.12.99.1', account: `victim${i}`, password: 'guess', asn: 7922 })).decision,
      );
    }
    expect(decisions.at(-1)).toBe('deny');
    for (const n of neighbours) {
      const r = await world.try(n, { [n.account]: 'pw' });
      expect(r.decision, `${n.account}: ${r.codes}`).not.toBe('deny');
      expect(r.decision, `${n.account}: ${r.codes}`).not.toBe('restrict');
    }
    for (const n of known) expect((await world.try(n, { [n.account]: 'pw' })).decision).toBe('allow');
  });

  it('counts addresses rotated inside one IPv6 /64 as one client', async () => {
    const world = new LoginWorld(store);
    const decisions: Decision[] = [];
    for (let i = 0; i < 20; i++) {
      const ip = `2001:db8:4:7:${((i * 7919) & 0xffff).toString(16)}:${i.toString(16)}:0:1`;
      decisions.push(
        (await world.try({ ip, account: `user${i}@example.net`, password: 'x', asn: 64999 })).decision,
      );
    }
    expect(decisions.slice(-5)).toEqual(['deny', 'deny', 'deny', 'deny', 'deny']);
    const counts = await world.counts({ ip: '2001:db8:4:7::abcd', account: 'anyone', asn: 64999 });
    expect(counts['client']).toBe(20);
  });

  it("sees a low-and-slow spray against a quiet route by the route's baseline", async () => {
    const world = new LoginWorld(store);
    // Two quiet hours: an owner logs in now and then and mistypes once in a while.
    for (let m = 0; m < 120; m++) {
      world.now += MINUTE - 1000;
      const typo = m % 30 === 7;
      await world.try({ ...CAROL, password: typo ? 'carol-secre' : CAROL.password }, PASSWORDS);
    }
    // One attempt per address, a new account each, one every 20 s: 30 per 10 minutes, far
    // below the absolute ceiling of 500.
    const decisions: Decision[] = [];
    for (let i = 0; i < 200; i++) {
      world.now += 19_000;
      const r = await world.try({
        ip: `100.70.${i >> 8}.${i & 255}`,
        account: `spray${i}@example.com`,
        password: 'Summer2026!',
        asn: 8000 + i,
      });
      decisions.push(r.decision);
    }
    const stopped = decisions.filter((d) => d !== 'allow').length;
    expect(stopped / decisions.length).toBeGreaterThanOrEqual(0.9);
    // The owner, meanwhile, is not bothered.
    expect((await world.try(CAROL, PASSWORDS)).decision).toBe('allow');
  });
});

describe('login familiarity', () => {
  it('an account with no history is neither familiar nor unfamiliar; a stranger with the password pays', async () => {
    const world = new LoginWorld(new MemoryStateStore());
    const first = await world.try(CAROL, PASSWORDS);
    expect(first.codes).toEqual([]);
    for (let i = 0; i < 5; i++) await world.try(CAROL, PASSWORDS);
    // Same ISP, another /24: still her.
    expect((await world.try({ ...CAROL, ip: '91.64.200.8' }, PASSWORDS)).codes).toEqual([]);
    // Her password from a datacenter on another continent, another browser: a stranger.
    const stranger = await world.try(
      { ...CAROL, ip: '45.77.12.9', asn: 20473, country: 'JP', agent: CHROME },
      PASSWORDS,
    );
    expect(stranger.codes).toContain('auth.login.unfamiliar_context');
    expect(stranger.decision).toBe('challenge');
    const population = (world.signals[1] as LoginFamiliaritySignal).population;
    expect(population.probability('asn', '3209')).toBeGreaterThan(population.probability('asn', '20473'));
    expect((world.signals[0] as CredentialStuffingSignal).name).toBe('credentialStuffing');
  });
});
