/**
 * Approximate sliding-window counts in bounded memory: each key keeps a handful of buckets over
 * the window; the count is the sum of live buckets. Keys live in a bounded cache, so an attacker who
 * spins through addresses evicts old keys instead of growing the heap.
 */
import { BoundedCache } from './bounded-cache.ts';

/** Buckets per window (the Redis store's failure views keep the same number). */
export const BUCKETS = 10;

interface Counter {
  /** Start time (ms) of the bucket at index i, or 0 when empty. */
  starts: Float64Array;
  counts: Uint32Array;
}

export class SlidingWindowCounter {
  private readonly windowMs: number;
  private readonly bucketMs: number;
  private readonly counters: BoundedCache<string, Counter>;

  constructor(windowMs: number, maxKeys: number) {
    this.windowMs = windowMs;
    this.bucketMs = Math.max(1, Math.ceil(windowMs / BUCKETS));
    this.counters = new BoundedCache({ max: maxKeys });
  }

  count(key: string, now: number): number {
    const c = this.counters.get(key);
    if (!c) return 0;
    let total = 0;
    const oldest = now - this.windowMs;
    for (let i = 0; i < BUCKETS; i++) if (c.starts[i]! > oldest) total += c.counts[i]!;
    return total;
  }

  /** Adds `by` and returns the new count. */
  add(key: string, now: number, by = 1): number {
    let c = this.counters.get(key);
    if (!c) {
      c = { starts: new Float64Array(BUCKETS), counts: new Uint32Array(BUCKETS) };
      this.counters.set(key, c);
    }
    const bucketStart = now - (now % this.bucketMs);
    const i = Math.floor(bucketStart / this.bucketMs) % BUCKETS;
    if (c.starts[i] !== bucketStart) {
      c.starts[i] = bucketStart;
      c.counts[i] = 0;
    }
    c.counts[i]! += by;
    return this.count(key, now);
  }

  get size(): number {
    return this.counters.size;
  }
}
