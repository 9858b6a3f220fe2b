/**
 * Shared state in Redis, so every enforcer of a service sees the same counters, places, devices
 * and baselines. A request costs at most one round trip (one Lua script reads every slot it
 * planned), and none when its slots are answered here: a subject's slots read in the last 500 ms
 * are reused (a burst of one user's requests costs one round trip, and a sibling's update is seen
 * within it), and this enforcer's own unflushed learning is newer than anything in Redis. Counts
 * are never reused: an attack must be seen at once. When Redis is slow or gone, commands fail
 * fast (no offline queue, a command timeout) and the local store — kept warm by writing through
 * — decides instead, flagged degraded so `failMode` can act.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { encodeReport, REPORTS_TTL_MS } from '../../contract/enforcer-report.ts';
import { enforcersKey, stateKey } from '../../contract/redis-keys.ts';
import { BoundedCache } from './bounded-cache.ts';
import type { MemoryStateStore } from './memory-store.ts';
import {
  decodeRead,
  encodeReads,
  encodeWrites,
  RATE_SCRIPT,
  READ_SCRIPT,
  WRITE_SCRIPT,
} from './redis-scripts.ts';
import {
  EMPTY_VIEW,
  isUrgent,
  type Membership,
  type SlotRead,
  type SlotWrite,
  type StatePlan,
  type StateView,
  type StateWrites,
  slotKey,
} from './slots.ts';
import type { Claim, StateStore } from './state-store.ts';

/** How long a slot read (not a count) is reused. */
const REUSE_MS = 500;
/** Batched learning reaches Redis at most this often. */
const FLUSH_MS = 1000;
/** Keys per script call when flushing a large batch. */
const FLUSH_CHUNK = 500;

export interface RedisStoreOptions {
  url: string;
  /** Hash tag shared by every key of this policy, e.g. "default/quickstart". */
  scope: string;
  /** Fallback and write-through mirror. */
  local: MemoryStateStore;
  /** How long a request may wait for Redis before local state decides. */
  commandTimeoutMs?: number;
  onError?: (err: Error) => void;
}

type Scripted = Redis & {
  rgRead(...args: (string | number)[]): Promise<unknown[]>;
  rgWrite(...args: (string | number)[]): Promise<number>;
  rgRate(...args: (string | number)[]): Promise<number>;
};

/** A slot's id in the caches below: a set's members are cached one by one. */
const cacheId = (r: SlotRead | SlotWrite): string =>
  r.kind === 'member' || r.kind === 'add' ? `${r.id}\u0000${r.member}` : r.id;

/** Per space, by id: as the local store keys them, so a hit hashes the subject it already has. */
class BySpace<V> {
  private readonly spaces = new Map<string, Map<string, V>>();
  get(space: string, id: string): V | undefined {
    return this.spaces.get(space)?.get(id);
  }
  set(space: string, id: string, value: V): void {
    let ids = this.spaces.get(space);
    if (ids === undefined) {
      ids = new Map();
      this.spaces.set(space, ids);
    }
    ids.set(id, value);
  }
  get size(): number {
    let n = 0;
    for (const ids of this.spaces.values()) n += ids.size;
    return n;
  }
  values(): SlotWrite[] {
    const out: SlotWrite[] = [];
    for (const ids of this.spaces.values()) for (const v of ids.values()) out.push(v as SlotWrite);
    return out;
  }
}

export class RedisStateStore implements StateStore {
  private readonly redis: Scripted;
  private readonly local: MemoryStateStore;
  private scope: string;
  private readonly onError: (err: Error) => void;
  /** Batched writes not yet sent, by slot (members one by one): the last one wins. */
  private pending = new BySpace<SlotWrite>();
  /** Reads reused for REUSE_MS, per space. */
  private readonly recent = new Map<string, BoundedCache<string, unknown>>();
  private flushScheduled = false;
  /** Reads local state answered because Redis failed, timed out or was down; for metrics. */
  errors = 0;

  constructor(options: RedisStoreOptions) {
    this.local = options.local;
    this.scope = options.scope;
    this.onError = options.onError ?? (() => {});
    const redisOptions: RedisOptions = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? 50,
      connectTimeout: 2000,
      enableAutoPipelining: true,
      retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
      lazyConnect: false,
    };
    const redis = new Redis(options.url, redisOptions);
    redis.on('error', (err: Error) => this.onError(err));
    redis.defineCommand('rgRead', { lua: READ_SCRIPT });
    redis.defineCommand('rgWrite', { lua: WRITE_SCRIPT });
    redis.defineCommand('rgRate', { numberOfKeys: 1, lua: RATE_SCRIPT });
    this.redis = redis as Scripted;
  }

  /** Keys of a policy share one hash tag: one Cluster slot per policy. */
  setScope(scope: string): void {
    this.scope = scope;
  }

  get connected(): boolean {
    return this.redis.status === 'ready';
  }

  private readonly key = (suffix: string): string => stateKey(this.scope, suffix);

  private failed(err: Error): void {
    this.errors++;
    this.onError(err);
  }

  private recentOf(space: string): BoundedCache<string, unknown> {
    let cache = this.recent.get(space);
    if (cache === undefined) {
      cache = new BoundedCache({ max: 50_000, ttlMs: REUSE_MS });
      this.recent.set(space, cache);
    }
    return cache;
  }

  /** A read this enforcer can answer itself: its own unflushed write, or a recent read. */
  private known(r: SlotRead, now: number): { value: unknown } | undefined {
    if (r.kind === 'count' || r.kind === 'size') return undefined;
    const id = cacheId(r);
    const own = this.pending.get(r.space, id);
    if (own !== undefined) {
      if (own.kind === 'add') return { value: { isMember: true, size: 1 } satisfies Membership };
      if (own.kind === 'record') return { value: own.fields };
      if (own.kind === 'value') return { value: own.value };
    }
    const hit = this.recent.get(r.space)?.get(id, now);
    return hit === undefined ? undefined : { value: hit ?? undefined };
  }

  read(plan: StatePlan, now: number): StateView | Promise<StateView> {
    const reads = plan.reads;
    if (reads.length === 0) return EMPTY_VIEW;
    if (!this.connected) {
      this.errors++;
      return { ...this.local.read(plan, now), degraded: true };
    }
    const values: unknown[] = new Array(reads.length);
    let missing: number[] | undefined;
    for (let i = 0; i < reads.length; i++) {
      const known = this.known(reads[i]!, now);
      if (known !== undefined) {
        values[i] = known.value;
      } else {
        missing ??= [];
        missing.push(i);
      }
    }
    if (missing === undefined) return { values, degraded: false };
    const asked = missing.map((i) => reads[i]!);
    return this.redis.rgRead(...encodeReads(asked, now, this.key)).then(
      (reply): StateView => {
        for (let j = 0; j < asked.length; j++) {
          const r = asked[j]!;
          const value = decodeRead(r, reply[j]);
          values[missing[j]!] = value;
          // Absent values are cached too: "nothing known" is as reusable as a value.
          if (r.kind !== 'count' && r.kind !== 'size') {
            this.recentOf(r.space).set(cacheId(r), value ?? null, REUSE_MS, now);
          }
        }
        return { values, degraded: false };
      },
      (err: Error): StateView => {
        this.failed(err);
        return { ...this.local.read(plan, now), degraded: true };
      },
    );
  }

  apply(writes: StateWrites, now: number): void {
    this.local.apply(writes, now);
    if (!this.connected) return;
    let urgent: SlotWrite[] | undefined;
    for (const w of writes.writes) {
      if (isUrgent(w)) {
        urgent ??= [];
        urgent.push(w);
        continue;
      }
      const id = cacheId(w);
      this.pending.set(w.space, id, w);
      // Keep a reused read in step with this enforcer's own write.
      if (w.kind === 'record') this.recentOf(w.space).set(id, w.fields, REUSE_MS, now);
      else if (w.kind === 'value') this.recentOf(w.space).set(id, w.value, REUSE_MS, now);
      else this.recent.get(w.space)?.delete(id);
    }
    // Sent at once, not batched: a failure must be visible to the sibling that sees the
    // attacker's next attempt.
    if (urgent)
      this.redis.rgWrite(...encodeWrites(urgent, now, this.key)).catch((err: Error) => this.failed(err));
    if (this.pending.size > 0 && !this.flushScheduled) {
      this.flushScheduled = true;
      setTimeout(() => void this.flush(), FLUSH_MS).unref();
    }
  }

  /**
   * Learning is frequent and each key's latest value is all that matters: one script call per
   * second (per 500 keys) carries the last write of each, off the response path.
   */
  async flush(): Promise<void> {
    this.flushScheduled = false;
    const batch = this.pending.values();
    this.pending = new BySpace();
    if (!this.connected || batch.length === 0) return;
    const now = Date.now();
    // Last writer wins: siblings learning the same subject at once each lose a little, which a
    // baseline can afford; a lock per request could not.
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < batch.length; i += FLUSH_CHUNK) {
      calls.push(this.redis.rgWrite(...encodeWrites(batch.slice(i, i + FLUSH_CHUNK), now, this.key)));
    }
    await Promise.all(calls).catch((err: Error) => this.failed(err));
  }

  /** Tells the operator which config this enforcer runs (status: enforcers up to date). */
  reportConfig(pod: string, hash: string): void {
    if (!this.connected) return;
    const key = enforcersKey(this.scope);
    this.redis
      .multi()
      .hset(key, pod, encodeReport({ hash, at: Date.now() }))
      .pexpire(key, REPORTS_TTL_MS)
      .exec()
      .catch((err: Error) => this.onError(err));
  }

  claim(space: string, id: string, ttlMs: number, now: number): Claim | Promise<Claim> {
    // The local claim first: a replay at this enforcer is refused without a round trip.
    if (this.local.claim(space, id, ttlMs, now) === 'taken') return 'taken';
    if (!this.connected) return 'local';
    return this.redis.set(this.key(slotKey(space, id)), '1', 'PX', Math.max(1, Math.round(ttlMs)), 'NX').then(
      (ok): Claim => (ok === 'OK' ? 'claimed' : 'taken'),
      (err: Error): Claim => {
        this.failed(err);
        return 'local';
      },
    );
  }

  rateLimitHit(key: string, windowMs: number, now: number): number | Promise<number> {
    if (!this.connected) return this.local.rateLimitHit(key, windowMs, now);
    const window = now - (now % windowMs);
    return this.redis.rgRate(this.key(`rl:${key}:${window}`), windowMs).catch((err: Error) => {
      this.failed(err);
      return this.local.rateLimitHit(key, windowMs, now);
    });
  }

  async close(): Promise<void> {
    await this.flush();
    this.redis.disconnect();
  }
}
