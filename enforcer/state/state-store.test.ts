/**
 * One suite, two stores: the in-memory store and the Redis store (a real Redis server) answer
 * every slot kind alike. Time is the `now` each call carries, not the wall clock: nothing sleeps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedisServer } from '../../test/support/redis-server.ts';
import { MemoryStateStore } from './memory-store.ts';
import { RedisStateStore } from './redis-store.ts';
import { EMPTY_VIEW, jsonCodec, StatePlan, StateWrites } from './slots.ts';
import type { StateStore } from './state-store.ts';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await (redis as RedisServer & { destroy(): Promise<void> }).destroy();
});

async function connected(store: RedisStateStore, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!store.connected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

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
      await connected(store);
      return store;
    },
  ],
];

const WINDOW = 60_000;
const T0 = 1_900_000_000_000;
const codec = jsonCodec<{ n: number; seen: string[] }>();

function writes(build: (w: StateWrites) => void): StateWrites {
  const w = new StateWrites();
  build(w);
  return w;
}

async function read(store: StateStore, now: number, build: (p: StatePlan) => void) {
  const plan = new StatePlan();
  build(plan);
  return store.read(plan, now);
}

describe.each(stores)('%s state store', (_name, make) => {
  let store: StateStore;
  beforeAll(async () => {
    store = await make();
  });
  afterAll(() => store.close());

  it('counts per key in a sliding window, and forgets after it', async () => {
    for (const [space, id] of [
      ['f:ip', '10.0.0.1'],
      ['f:ip', '10.0.0.1'],
      ['f:ip', '10.0.0.2'],
      ['f:global', ''],
      ['f:global', ''],
    ] as const) {
      store.apply(
        writes((w) => w.count(space, id, WINDOW)),
        T0,
      );
    }
    const view = await read(store, T0 + 1000, (p) => {
      p.count('f:ip', '10.0.0.1', WINDOW);
      p.count('f:ip', '10.0.0.2', WINDOW);
      p.count('f:global', '', WINDOW);
      p.count('f:ip', 'never', WINDOW);
    });
    expect(view.degraded).toBe(false);
    expect(view.values).toEqual([2, 1, 2, 0]);
    const later = await read(store, T0 + WINDOW + 10_000, (p) => p.count('f:ip', '10.0.0.1', WINDOW));
    expect(later.values).toEqual([0]);
  });

  it('keeps bounded sets: size, membership, first member', async () => {
    const add = (member: string, urgent = false) =>
      store.apply(
        writes((w) => w.add('dev', 'gina', member, 2, 60_000, urgent)),
        T0,
      );
    const membership = async (member: string) =>
      (await read(store, T0, (p) => p.member('dev', 'gina', member))).values[0];
    expect(await membership('laptop-1')).toEqual({ isMember: false, size: 0 });
    add('laptop-1');
    await store.flush();
    expect(await membership('laptop-1')).toEqual({ isMember: true, size: 1 });
    expect(await membership('phone-9')).toEqual({ isMember: false, size: 1 });
    add('phone-9', true);
    add('tablet-3', true); // over the bound of 2: not added
    await store.flush();
    expect((await read(store, T0 + 600, (p) => p.size('dev', 'gina'))).values).toEqual([2]);
    expect(await membership('tablet-3')).toEqual({ isMember: false, size: 2 });
  });

  it('keeps records of fields, numbers read back with Number()', async () => {
    store.apply(
      writes((w) => w.record('seen', 'dave', { lat: 52.5, lon: 13.4, asn: '' }, 60_000)),
      T0,
    );
    await store.flush();
    const [dave, nobody] = (
      await read(store, T0 + 1, (p) => {
        p.record('seen', 'dave');
        p.record('seen', 'nobody');
      })
    ).values as [Record<string, string | number>, undefined];
    expect(Number(dave['lat'])).toBe(52.5);
    expect(Number(dave['lon'])).toBe(13.4);
    expect(dave['asn']).toBe('');
    expect(nobody).toBeUndefined();
  });

  it('keeps values through their codec', async () => {
    store.apply(
      writes((w) => w.value('prof', 'erin', { n: 7, seen: ['a'] }, codec, 60_000)),
      T0,
    );
    await store.flush();
    const view = await read(store, T0 + 1000, (p) => {
      p.value('prof', 'erin', codec);
      p.value('prof', 'nobody', codec);
    });
    expect(view.values).toEqual([{ n: 7, seen: ['a'] }, undefined]);
  });

  it('reads back its own learning before it has reached shared state', async () => {
    // A store of its own: no flush timer of another test may fire in between.
    const own = await make();
    try {
      const plan = (p: StatePlan) => {
        p.record('seen', 'ivan');
        p.member('dev', 'ivan', 'tablet-2');
        p.value('prof', 'ivan', codec);
      };
      await read(own, T0, plan);
      own.apply(
        writes((w) => {
          w.record('seen', 'ivan', { lat: 48.1 }, 60_000);
          w.add('dev', 'ivan', 'tablet-2', 32, 60_000);
          w.value('prof', 'ivan', { n: 7, seen: [] }, codec, 60_000);
        }),
        T0,
      );
      // Past the Redis store's reuse of reads (500 ms), before its learning flush (1 s).
      const view = await read(own, T0 + 600, plan);
      expect(Number((view.values[0] as Record<string, unknown>)['lat'])).toBe(48.1);
      expect(view.values[1]).toMatchObject({ isMember: true });
      expect(view.values[2]).toEqual({ n: 7, seen: [] });
    } finally {
      await own.close();
    }
  });

  it('reads a slot two signals plan once', () => {
    const plan = new StatePlan();
    const a = plan.member('dev', 'x', 'd1');
    const b = plan.member('dev', 'x', 'd1');
    const c = plan.member('dev', 'x', 'd2');
    expect([a, b, c]).toEqual([0, 0, 1]);
    expect(plan.reads).toHaveLength(2);
  });

  it('rate-limits in a window', async () => {
    const hits: number[] = [];
    for (let i = 0; i < 4; i++) hits.push(await store.rateLimitHit('k', 60_000, T0 + i));
    expect(hits).toEqual([1, 2, 3, 4]);
  });

  it('needs no state for a request whose signals plan none', async () => {
    expect(await read(store, T0, () => {})).toBe(EMPTY_VIEW);
  });
});

describe('redis store without Redis', () => {
  it('decides from local state, flagged degraded, and recovers when Redis returns', async () => {
    const local = new MemoryStateStore();
    const store = new RedisStateStore({ url: redis.url, scope: 'outage', local, commandTimeoutMs: 200 });
    await connected(store, 10_000);
    const failure = writes((w) => w.count('f:acct', 'frank', WINDOW));
    store.apply(failure, T0);
    await redis.stop();
    const during = await read(store, T0 + 10, (p) => p.count('f:acct', 'frank', WINDOW));
    expect(during.degraded).toBe(true);
    expect(during.values).toEqual([1]); // the write-through mirror
    store.apply(failure, T0 + 20); // no throw while down
    await redis.start();
    await connected(store, 10_000);
    const after = await read(store, T0 + 30, (p) => p.count('f:acct', 'frank', WINDOW));
    expect(after.degraded).toBe(false);
    await store.close();
  });
});
