/**
 * Shared state in Redis, so every enforcer of a service sees the same counters and locations.
 * A request costs at most one round trip (one Lua script reads every view it needs); a request
 * that needs nothing shared costs none. Every key carries a TTL and one hash tag per policy, so
 * a script's keys share a Redis Cluster slot. When Redis is slow or gone, commands fail fast
 * (no offline queue, a command timeout) and the local store — kept warm by writing through —
 * decides instead, flagged as degraded so `failMode` can act.
 *
 * Memory per tracked subject: one hash of five small fields (last location), ~200 bytes with
 * key overhead, kept 7 days. Per login-failure view (IP, ASN, account, credential): one hash of
 * at most ~10 bucket fields, ~250 bytes, kept one window.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { restoreProfile, type SubjectProfile } from '../behaviour/profile.ts';
import type { RequestContext } from '../context/request-context.ts';
import { BoundedCache } from './bounded-cache.ts';
import type { MemoryStateStore } from './memory-store.ts';
import { ADD_DEVICE_SCRIPT, FAILURE_SCRIPT, RATE_SCRIPT, READ_SCRIPT } from './redis-scripts.ts';
import { BUCKETS } from './sliding-window.ts';
import {
  EMPTY_SNAPSHOT,
  type LastSeen,
  needsNothing,
  type StateNeeds,
  type StateSnapshot,
  type StateStore,
} from './state-store.ts';

/**
 * A subject's snapshot (location, devices, profile) is reused for this long: a burst of one
 * user's requests costs one round trip, and a sibling's update is seen within it. Login reads
 * (failure counters) are never reused: an attack must be seen at once.
 */
const SUBJECT_SNAPSHOT_TTL_MS = 500;
/** Per-subject learning (profile, location, devices) reaches Redis at most this often. */
const LEARNING_FLUSH_MS = 1000;
const SEEN_TTL_MS = 7 * 24 * 60 * 60_000;
const DEVICES_TTL_MS = 90 * 24 * 60 * 60_000;

function parseProfile(value: string | number | undefined): SubjectProfile | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  try {
    return restoreProfile(JSON.parse(value) as SubjectProfile);
  } catch {
    return undefined;
  }
}

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
  rgRead(...args: (string | number)[]): Promise<(string | number)[]>;
  rgFailure(...args: (string | number)[]): Promise<number>;
  rgRate(...args: (string | number)[]): Promise<number>;
};

export class RedisStateStore implements StateStore {
  private readonly redis: Scripted;
  private readonly local: MemoryStateStore;
  private scope: string;
  private readonly onError: (err: Error) => void;
  private pendingSeen = new Map<string, LastSeen>();
  private pendingDevices = new Map<string, [string, string]>();
  private pendingProfiles = new Map<string, [SubjectProfile, number]>();
  private readonly recent = new BoundedCache<string, { snapshot: StateSnapshot; device: string | undefined }>(
    {
      max: 50_000,
      ttlMs: SUBJECT_SNAPSHOT_TTL_MS,
    },
  );
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
    redis.defineCommand('rgRead', { numberOfKeys: 9, lua: READ_SCRIPT });
    redis.defineCommand('rgFailure', { lua: FAILURE_SCRIPT });
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

  private key(suffix: string): string {
    return `rg:{${this.scope}}:${suffix}`;
  }

  /**
   * The failure views' keys for a login attempt, in the order the read script expects them;
   * '' where the view does not apply (no ASN, no account named, no secret given).
   */
  private failureKeys(ctx: RequestContext): {
    ip: string;
    asn: string;
    account: string;
    credential: string;
    global: string;
    accounts: string;
  } {
    return {
      ip: this.key(`f:ip:${ctx.client.ip}`),
      asn: ctx.location.asn !== undefined ? this.key(`f:asn:${ctx.location.asn}`) : '',
      account: ctx.login ? this.key(`f:acct:${ctx.login.account}`) : '',
      credential: ctx.login?.credential ? this.key(`f:cred:${ctx.login.credential}`) : '',
      global: this.key('f:global'),
      accounts: ctx.login ? this.key(`f:accts:${ctx.client.ip}`) : '',
    };
  }

  read(ctx: RequestContext, needs: StateNeeds): StateSnapshot | Promise<StateSnapshot> {
    if (needsNothing(needs)) return EMPTY_SNAPSHOT;
    if (!this.connected) {
      this.errors++;
      return { ...this.local.read(ctx, needs), degraded: true };
    }
    const login = needs.loginWindowMs !== undefined;
    const subject = ctx.riskSubject;
    const reusable = !login && subject !== undefined;
    if (reusable) {
      const hit = this.recent.get(subject);
      if (hit && hit.device === needs.device) return hit.snapshot;
    }
    const f = login ? this.failureKeys(ctx) : undefined;
    const keys = [
      f?.ip ?? '',
      f?.asn ?? '',
      f?.account ?? '',
      f?.credential ?? '',
      f?.global ?? '',
      f?.accounts ?? '',
      needs.lastSeen && ctx.riskSubject !== undefined ? this.key(`seen:${ctx.riskSubject}`) : '',
      needs.device !== undefined && ctx.riskSubject !== undefined ? this.key(`dev:${ctx.riskSubject}`) : '',
      needs.profile && ctx.riskSubject !== undefined ? this.key(`prof:${ctx.riskSubject}`) : '',
    ];
    return this.redis.rgRead(...keys, ctx.now, needs.loginWindowMs ?? 0, needs.device ?? '').then(
      (r): StateSnapshot => {
        const num = (v: string | number | undefined) => Number(v ?? 0);
        const shared =
          r[10] === '' || r[10] === undefined
            ? undefined
            : {
                latitude: num(r[6]),
                longitude: num(r[7]),
                accuracyKm: num(r[8]),
                asn: r[9] === '' ? undefined : num(r[9]),
                at: num(r[10]),
              };
        // What this enforcer learned but has not flushed yet is newer than what it flushed:
        // reading Redis back must not roll its own learning back (profile, device, place).
        const own = subject !== undefined ? this.pendingSeen.get(subject) : undefined;
        const lastSeen = own !== undefined && (shared === undefined || own.at >= shared.at) ? own : shared;
        const ownProfile = subject !== undefined ? this.pendingProfiles.get(subject)?.[0] : undefined;
        const ownDevice = this.pendingDevices.has(`${subject}\u0000${needs.device}`);
        const snapshot: StateSnapshot = {
          loginFailures: {
            ip: num(r[0]),
            asn: num(r[1]),
            account: num(r[2]),
            credential: num(r[3]),
            global: num(r[4]),
            distinctAccountsPerIp: num(r[5]),
          },
          lastSeen,
          device:
            keys[7] === ''
              ? undefined
              : ownDevice || num(r[11]) === 1
                ? 'known'
                : num(r[12]) === 0
                  ? 'first'
                  : 'new',
          profile: keys[8] === '' ? undefined : (ownProfile ?? parseProfile(r[13])),
          degraded: false,
        };
        if (reusable) this.recent.set(subject, { snapshot, device: needs.device });
        return snapshot;
      },
      (err: Error) => {
        this.errors++;
        this.onError(err);
        return { ...this.local.read(ctx, needs), degraded: true };
      },
    );
  }

  recordLoginFailure(ctx: RequestContext, windowMs: number): void {
    this.local.recordLoginFailure(ctx, windowMs);
    if (!this.connected) return;
    const bucketMs = Math.max(1, Math.ceil(windowMs / BUCKETS));
    const bucket = ctx.now - (ctx.now % bucketMs);
    const { accounts, ...views } = this.failureKeys(ctx);
    const counters = Object.values(views).filter(Boolean);
    // Sent at once, not batched: a failure must be visible to the sibling that sees the
    // attacker's next attempt.
    this.redis
      .rgFailure(
        counters.length + 1,
        ...counters,
        accounts,
        bucket,
        windowMs,
        ctx.now - windowMs,
        ctx.login?.account ?? '',
      )
      .catch((err: Error) => {
        this.errors++;
        this.onError(err);
      });
  }

  recordSeen(subject: string, seen: LastSeen): void {
    this.local.recordSeen(subject, seen);
    this.patchRecent(subject, (s) => ({ ...s, lastSeen: seen }));
    this.pendingSeen.set(subject, seen);
    this.scheduleFlush();
  }

  /** Keeps a reused snapshot in step with this enforcer's own writes. */
  private patchRecent(
    subject: string,
    patch: (s: StateSnapshot, device: string | undefined) => StateSnapshot,
  ) {
    const hit = this.recent.get(subject);
    if (hit) hit.snapshot = patch(hit.snapshot, hit.device);
  }

  recordProfile(subject: string, profile: SubjectProfile, ttlMs: number): void {
    this.local.recordProfile(subject, profile, ttlMs);
    this.patchRecent(subject, (s) => (s.profile === profile ? s : { ...s, profile }));
    this.pendingProfiles.set(subject, [profile, ttlMs]);
    this.scheduleFlush();
  }

  recordDevice(subject: string, device: string): void {
    this.local.recordDevice(subject, device);
    this.patchRecent(subject, (s, d) =>
      d === device && s.device !== 'known' ? { ...s, device: 'known' } : s,
    );
    this.pendingDevices.set(`${subject}\u0000${device}`, [subject, device]);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setTimeout(() => void this.flush(), LEARNING_FLUSH_MS).unref();
    }
  }

  /**
   * Learning is frequent and each subject's latest value is all that matters: one pipeline per
   * second carries the last write of each, off the response path.
   */
  flush(): Promise<void> {
    this.flushScheduled = false;
    const batch = this.pendingSeen;
    const devices = this.pendingDevices;
    const profiles = this.pendingProfiles;
    this.pendingSeen = new Map();
    this.pendingDevices = new Map();
    this.pendingProfiles = new Map();
    if (!this.connected || (batch.size === 0 && devices.size === 0 && profiles.size === 0))
      return Promise.resolve();
    const pipeline = this.redis.pipeline();
    // Last writer wins: siblings learning the same subject at once each lose a little, which a
    // baseline can afford; a lock per request could not.
    for (const [subject, [profile, ttl]] of profiles) {
      pipeline.set(this.key(`prof:${subject}`), JSON.stringify(profile), 'PX', ttl);
    }
    for (const [subject, device] of devices.values()) {
      const key = this.key(`dev:${subject}`);
      pipeline.eval(ADD_DEVICE_SCRIPT, 1, key, device, DEVICES_TTL_MS);
    }
    for (const [subject, s] of batch) {
      const key = this.key(`seen:${subject}`);
      pipeline.hset(
        key,
        'lat',
        s.latitude,
        'lon',
        s.longitude,
        'acc',
        s.accuracyKm,
        'asn',
        s.asn ?? '',
        'at',
        s.at,
      );
      pipeline.pexpire(key, SEEN_TTL_MS);
    }
    return pipeline.exec().then(
      () => undefined,
      (err: Error) => {
        this.errors++;
        this.onError(err);
      },
    );
  }

  /** Tells the operator which config this enforcer runs (status: enforcers up to date). */
  reportConfig(pod: string, hash: string): void {
    if (!this.connected) return;
    const key = this.key('enforcers');
    this.redis
      .multi()
      .hset(key, pod, `${hash} ${Date.now()}`)
      .pexpire(key, 5 * 60_000)
      .exec()
      .catch((err: Error) => this.onError(err));
  }

  rateLimitHit(key: string, windowMs: number, now: number): number | Promise<number> {
    if (!this.connected) return this.local.rateLimitHit(key, windowMs, now);
    const window = now - (now % windowMs);
    return this.redis.rgRate(this.key(`rl:${key}:${window}`), windowMs).catch((err: Error) => {
      this.errors++;
      this.onError(err);
      return this.local.rateLimitHit(key, windowMs, now);
    });
  }

  async close(): Promise<void> {
    await this.flush();
    this.redis.disconnect();
  }
}
