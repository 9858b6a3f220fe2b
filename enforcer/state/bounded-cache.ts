/**
 * A bounded map for per-client state on the request path: at most `max` entries, recently used
 * ones kept, optional expiry. Two generations of plain Maps: entries live in the young one; when
 * it fills half the bound, it becomes the old one and the previous old one is dropped whole. A
 * hit in the old generation moves the entry back to the young one, so anything used within the
 * last max/2 insertions survives.
 *
 * Why not lru-cache: it preallocates every slot for `max` up front (several MB per cache at the
 * bounds a sidecar needs), and the enforcer holds a dozen such caches; this costs memory only
 * for entries that exist, and a hit is one Map lookup.
 */

interface Entry<V> {
  value: V;
  /** Epoch ms after which the entry is gone; Infinity when it never expires. */
  expires: number;
}

export interface BoundedCacheOptions<V = unknown> {
  max: number;
  /**
   * A bound on the bytes the entries hold, as `sizeOf` counts them: entries an attacker sizes
   * (tokens, say) are bounded by memory, not only by number.
   */
  maxBytes?: number;
  sizeOf?: (value: V) => number;
  /** Default lifetime of an entry, ms. */
  ttlMs?: number;
  /** Clock for expiry (epoch ms). */
  now?: () => number;
}

export class BoundedCache<K, V> {
  private young = new Map<K, Entry<V>>();
  private old = new Map<K, Entry<V>>();
  private readonly generationSize: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly generationBytes: number;
  private readonly sizeOf: ((value: V) => number) | undefined;
  /** Bytes held by the young generation, when bounded by bytes. */
  private youngBytes = 0;

  constructor(options: BoundedCacheOptions<V>) {
    if (!(options.max >= 2)) throw new RangeError('max must be at least 2');
    this.generationSize = Math.floor(options.max / 2);
    this.ttlMs = options.ttlMs ?? Number.POSITIVE_INFINITY;
    this.now = options.now ?? (() => Date.now());
    this.generationBytes = Math.floor((options.maxBytes ?? Number.POSITIVE_INFINITY) / 2);
    this.sizeOf = options.maxBytes === undefined ? undefined : options.sizeOf;
  }

  /** `now` saves a clock read where the caller already has the time (the request's arrival). */
  get(key: K, now?: number): V | undefined {
    let entry = this.young.get(key);
    if (entry === undefined) {
      entry = this.old.get(key);
      if (entry === undefined) return undefined;
      this.old.delete(key);
      if (entry.expires !== Number.POSITIVE_INFINITY && entry.expires <= (now ?? this.now()))
        return undefined;
      this.insert(key, entry);
      return entry.value;
    }
    if (entry.expires !== Number.POSITIVE_INFINITY && entry.expires <= (now ?? this.now())) {
      this.young.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Stores `value`; `ttlMs` overrides the cache's default lifetime for this entry. */
  set(key: K, value: V, ttlMs = this.ttlMs, now?: number): void {
    const expires = ttlMs === Number.POSITIVE_INFINITY ? ttlMs : (now ?? this.now()) + ttlMs;
    const entry = this.young.get(key);
    if (entry !== undefined && this.sizeOf === undefined) {
      // Updated in place: a subject's profile is rewritten on every request it makes.
      entry.value = value;
      entry.expires = expires;
      return;
    }
    if (entry !== undefined) this.young.delete(key);
    this.old.delete(key);
    this.insert(key, { value, expires });
  }

  delete(key: K): void {
    this.young.delete(key);
    this.old.delete(key);
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  private insert(key: K, entry: Entry<V>): void {
    const bytes = this.sizeOf?.(entry.value) ?? 0;
    if (this.young.size >= this.generationSize || this.youngBytes + bytes > this.generationBytes) {
      this.old = this.young;
      this.young = new Map();
      this.youngBytes = 0;
    }
    this.young.set(key, entry);
    this.youngBytes += bytes;
  }
}
