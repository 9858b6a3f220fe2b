/** One suite, two stores: the in-memory store and the Redis store behave the same. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedisServer } from '../../test/support/redis-server.ts';
import { testContext, tokenSubject } from '../../test/support/request-context.ts';
import { emptyProfile } from '../behaviour/profile.ts';
import type { RequestContext } from '../context/request-context.ts';
import { UNKNOWN_LOCATION } from '../geo/geo-lookup.ts';
import { MemoryStateStore } from './memory-store.ts';
import { RedisStateStore } from './redis-store.ts';
import type { StateStore } from './state-store.ts';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await (redis as RedisServer & { destroy(): Promise<void> }).destroy();
});

let scopeCounter = 0;
const stores: [string, () => Promise<StateStore>][] = [
  ['memory', async () => new MemoryStateStore()],
  [
    'redis',
    async () => {
      const store = new RedisStateStore({
        url: redis.url,
        scope: `test/${++scopeCounter}`,
        local: new MemoryStateStore(),
        commandTimeoutMs: 1000,
      });
      const deadline = Date.now() + 5000;
      while (!store.connected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return store;
    },
  ],
];

const WINDOW = 60_000;
const T0 = 1_900_000_000_000;

function ctx(
  ip: string,
  account: string | undefined,
  now: number,
  subject?: string,
  asn?: number,
): RequestContext {
  return testContext({
    method: 'POST',
    path: '/login',
    client: { ip, family: 4, words: new Uint32Array(4) },
    location: { ...UNKNOWN_LOCATION, asn },
    ...(subject ? tokenSubject(subject) : {}),
    login: account ? { account, credential: `${account}-pw` } : undefined,
    now,
  });
}

const loginNeeds = { loginWindowMs: WINDOW, lastSeen: false };

describe.each(stores)('%s state store', (_name, make) => {
  let store: StateStore;
  beforeAll(async () => {
    store = await make();
  });
  afterAll(() => store.close());

  it('counts login failures per IP, ASN, account, credential, globally and accounts per IP', async () => {
    for (const [ip, account] of [
      ['10.0.0.1', 'alice'],
      ['10.0.0.1', 'bob'],
      ['10.0.0.2', 'alice'],
    ] as const) {
      store.recordLoginFailure(ctx(ip, account, T0, undefined, 64500), WINDOW);
    }
    await new Promise((r) => setTimeout(r, 50));
    const snap = await store.read(ctx('10.0.0.1', 'alice', T0 + 1000, undefined, 64500), loginNeeds);
    expect(snap.degraded).toBe(false);
    expect(snap.loginFailures).toEqual({
      ip: 2,
      asn: 3,
      account: 2,
      credential: 2,
      global: 3,
      distinctAccountsPerIp: 2,
    });
  });

  it('forgets failures after the window', async () => {
    store.recordLoginFailure(ctx('10.9.9.9', 'carol', T0, undefined, undefined), WINDOW);
    await new Promise((r) => setTimeout(r, 50));
    expect((await store.read(ctx('10.9.9.9', 'carol', T0 + 1000), loginNeeds)).loginFailures.account).toBe(1);
    expect(
      (await store.read(ctx('10.9.9.9', 'carol', T0 + WINDOW + 10_000), loginNeeds)).loginFailures.account,
    ).toBe(0);
  });

  it('remembers where a subject was last seen', async () => {
    store.recordSeen('dave', { latitude: 52.5, longitude: 13.4, accuracyKm: 20, asn: 3320, at: T0 });
    store.recordSeen('erin', { latitude: 1, longitude: 2, accuracyKm: 3, asn: undefined, at: T0 });
    await store.flush();
    const needs = { loginWindowMs: undefined, lastSeen: true };
    expect((await store.read(ctx('10.0.0.1', undefined, T0, 'dave'), needs)).lastSeen).toEqual({
      latitude: 52.5,
      longitude: 13.4,
      accuracyKm: 20,
      asn: 3320,
      at: T0,
    });
    expect((await store.read(ctx('10.0.0.1', undefined, T0, 'erin'), needs)).lastSeen?.asn).toBeUndefined();
    expect((await store.read(ctx('10.0.0.1', undefined, T0, 'nobody'), needs)).lastSeen).toBeUndefined();
  });

  it('reads back its own learning before it has reached shared state', async () => {
    // A store of its own: no flush timer of another test may fire during the wait.
    const own = await make();
    try {
      const needs = { loginWindowMs: undefined, lastSeen: true, device: 'tablet-2', profile: true };
      const request = ctx('10.0.0.1', undefined, T0, 'ivan');
      await own.read(request, needs);
      const profile = emptyProfile();
      profile.n = 7;
      own.recordProfile('ivan', profile, 60_000);
      own.recordDevice('ivan', 'tablet-2');
      own.recordSeen('ivan', { latitude: 48.1, longitude: 11.6, accuracyKm: 10, asn: 3320, at: T0 });
      // Past the Redis store's snapshot reuse (500 ms), before its learning flush (1 s).
      await new Promise((r) => setTimeout(r, 600));
      const snapshot = await own.read(request, needs);
      expect(snapshot.profile?.n).toBe(7);
      expect(snapshot.device).toBe('known');
      expect(snapshot.lastSeen?.latitude).toBe(48.1);
    } finally {
      await own.close();
    }
  });

  it("knows a subject's devices: first, known, new", async () => {
    const needs = (device: string) => ({ loginWindowMs: undefined, lastSeen: false, device });
    const read = async (subject: string, device: string) =>
      (await store.read(ctx('10.0.0.1', undefined, T0, subject), needs(device))).device;
    expect(await read('gina', 'laptop-1')).toBe('first');
    store.recordDevice('gina', 'laptop-1');
    await store.flush();
    expect(await read('gina', 'laptop-1')).toBe('known');
    expect(await read('gina', 'phone-9')).toBe('new');
    expect(await read('hank', 'laptop-1')).toBe('first');
  });

  it('rate-limits in a window', async () => {
    const hits: number[] = [];
    for (let i = 0; i < 4; i++) hits.push(await store.rateLimitHit('k', 60_000, T0 + i));
    expect(hits).toEqual([1, 2, 3, 4]);
  });

  it('needs no state for a request whose signals need none', async () => {
    const snap = await store.read(ctx('10.0.0.1', undefined, T0), {
      loginWindowMs: undefined,
      lastSeen: false,
    });
    expect(snap.degraded).toBe(false);
    expect(snap.loginFailures.global).toBe(0);
  });
});

describe('redis store without Redis', () => {
  it('decides from local state, flagged degraded, and recovers when Redis returns', async () => {
    const local = new MemoryStateStore();
    const store = new RedisStateStore({ url: redis.url, scope: 'outage', local, commandTimeoutMs: 200 });
    while (!store.connected) await new Promise((r) => setTimeout(r, 20));
    store.recordLoginFailure(ctx('10.1.1.1', 'frank', T0), WINDOW);
    await redis.stop();
    await new Promise((r) => setTimeout(r, 100));
    const during = await store.read(ctx('10.1.1.1', 'frank', T0 + 10), loginNeeds);
    expect(during.degraded).toBe(true);
    expect(during.loginFailures.account).toBe(1); // the write-through mirror
    store.recordLoginFailure(ctx('10.1.1.1', 'frank', T0 + 20), WINDOW); // no throw while down
    await redis.start();
    const deadline = Date.now() + 10_000;
    while (!store.connected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const after = await store.read(ctx('10.1.1.1', 'frank', T0 + 30), loginNeeds);
    expect(after.degraded).toBe(false);
    await store.close();
  });
});
