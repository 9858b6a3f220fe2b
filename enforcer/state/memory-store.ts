/**
 * Bounded in-memory state for one enforcer process: a cache per slot space and kind, each of at
 * most 100,000 ids (the least recently used dropped first), so an attacker spinning through
 * addresses or accounts evicts old ones instead of growing the heap.
 */
import { BoundedCache } from './bounded-cache.ts';
import { SlidingWindowCounter } from './sliding-window.ts';
import {
  EMPTY_VIEW,
  type Fields,
  type Membership,
  type StatePlan,
  type StateView,
  type StateWrites,
} from './slots.ts';
import type { Claim, StateStore } from './state-store.ts';

export const MAX_KEYS = 100_000;

/** One cache per space, made when the space is first used. */
class Spaces<V> {
  private readonly bySpace = new Map<string, V>();
  private readonly make: () => V;

  constructor(make: () => V) {
    this.make = make;
  }

  of(space: string): V {
    let cache = this.bySpace.get(space);
    if (cache === undefined) {
      cache = this.make();
      this.bySpace.set(space, cache);
    }
    return cache;
  }

  peek(space: string): V | undefined {
    return this.bySpace.get(space);
  }
}

const cache = <V>() => new Spaces(() => new BoundedCache<string, V>({ max: MAX_KEYS }));

export class MemoryStateStore implements StateStore {
  private readonly counters = new Spaces<Map<number, SlidingWindowCounter>>(() => new Map());
  private readonly sets = cache<Set<string>>();
  private readonly records = cache<Fields>();
  private readonly values = cache<unknown>();
  private readonly rates = new Map<number, SlidingWindowCounter>();
  private readonly claims = cache<true>();

  private counter(space: string, windowMs: number): SlidingWindowCounter {
    const windows = this.counters.of(space);
    let c = windows.get(windowMs);
    if (!c) {
      c = new SlidingWindowCounter(windowMs, MAX_KEYS);
      windows.set(windowMs, c);
    }
    return c;
  }

  read(plan: StatePlan, now: number): StateView {
    const reads = plan.reads;
    if (reads.length === 0) return EMPTY_VIEW;
    const values: unknown[] = new Array(reads.length);
    for (let i = 0; i < reads.length; i++) {
      const r = reads[i]!;
      switch (r.kind) {
        case 'count':
          values[i] = this.counters.peek(r.space)?.get(r.windowMs)?.count(r.id, now) ?? 0;
          break;
        case 'size':
          values[i] = this.sets.peek(r.space)?.get(r.id, now)?.size ?? 0;
          break;
        case 'member': {
          const set = this.sets.peek(r.space)?.get(r.id, now);
          values[i] = { isMember: set?.has(r.member) ?? false, size: set?.size ?? 0 } satisfies Membership;
          break;
        }
        case 'record':
          values[i] = this.records.peek(r.space)?.get(r.id, now);
          break;
        case 'value':
          values[i] = this.values.peek(r.space)?.get(r.id, now);
          break;
      }
    }
    return { values, degraded: false };
  }

  apply(writes: StateWrites, now: number): void {
    for (const w of writes.writes) {
      switch (w.kind) {
        case 'count':
          this.counter(w.space, w.windowMs).add(w.id, now);
          break;
        case 'add': {
          const sets = this.sets.of(w.space);
          const set = sets.get(w.id, now);
          if (set === undefined) sets.set(w.id, new Set([w.member]), w.ttlMs, now);
          else if (!set.has(w.member) && set.size < w.max) set.add(w.member);
          break;
        }
        case 'record':
          this.records.of(w.space).set(w.id, w.fields, w.ttlMs, now);
          break;
        case 'value':
          this.values.of(w.space).set(w.id, w.value, w.ttlMs, now);
          break;
      }
    }
  }

  claim(space: string, id: string, ttlMs: number, now: number): Claim {
    const claimed = this.claims.of(space);
    if (claimed.get(id, now) !== undefined) return 'taken';
    claimed.set(id, true, Math.max(1, ttlMs), now);
    return 'claimed';
  }

  rateLimitHit(key: string, windowMs: number, now: number): number {
    let c = this.rates.get(windowMs);
    if (!c) {
      c = new SlidingWindowCounter(windowMs, MAX_KEYS);
      this.rates.set(windowMs, c);
    }
    return c.add(key, now);
  }

  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}
