import type { SubjectProfile } from '../behaviour/profile.ts';
import type { RequestContext } from '../context/request-context.ts';
import { BoundedCache } from './bounded-cache.ts';
import { SlidingWindowCounter } from './sliding-window.ts';
import {
  EMPTY_SNAPSHOT,
  type LastSeen,
  type LoginFailureCounts,
  NO_FAILURES,
  needsNothing,
  type StateNeeds,
  type StateSnapshot,
  type StateStore,
} from './state-store.ts';

const MAX_KEYS = 100_000;
export const MAX_ACCOUNTS_PER_IP = 256;
export const MAX_DEVICES_PER_SUBJECT = 32;

/** Bounded in-memory state for one enforcer process. */
export class MemoryStateStore implements StateStore {
  private readonly windows = new Map<number, SlidingWindowCounter>();
  private readonly accountsByIp = new BoundedCache<string, Set<string>>({
    max: MAX_KEYS,
    ttlMs: 60 * 60_000,
  });
  private readonly seen = new BoundedCache<string, LastSeen>({ max: MAX_KEYS, ttlMs: 7 * 24 * 60 * 60_000 });
  private readonly devices = new BoundedCache<string, Set<string>>({
    max: MAX_KEYS,
    ttlMs: 90 * 24 * 60 * 60_000,
  });

  private readonly profiles = new BoundedCache<string, SubjectProfile>({ max: MAX_KEYS });

  recordProfile(subject: string, profile: SubjectProfile, ttlMs: number): void {
    this.profiles.set(subject, profile, ttlMs);
  }

  recordDevice(subject: string, device: string): void {
    let known = this.devices.get(subject);
    if (!known) {
      known = new Set();
      this.devices.set(subject, known);
    }
    if (known.size < MAX_DEVICES_PER_SUBJECT) known.add(device);
  }

  private deviceState(subject: string | undefined, device: string | undefined): StateSnapshot['device'] {
    if (subject === undefined || device === undefined) return undefined;
    const known = this.devices.get(subject);
    if (!known || known.size === 0) return 'first';
    return known.has(device) ? 'known' : 'new';
  }

  private counter(windowMs: number): SlidingWindowCounter {
    let c = this.windows.get(windowMs);
    if (!c) {
      c = new SlidingWindowCounter(windowMs, MAX_KEYS);
      this.windows.set(windowMs, c);
    }
    return c;
  }

  read(ctx: RequestContext, needs: StateNeeds): StateSnapshot {
    if (needsNothing(needs)) return EMPTY_SNAPSHOT;
    return {
      loginFailures:
        needs.loginWindowMs === undefined ? NO_FAILURES : this.loginFailures(ctx, needs.loginWindowMs),
      lastSeen: needs.lastSeen && ctx.riskSubject !== undefined ? this.seen.get(ctx.riskSubject) : undefined,
      device: this.deviceState(ctx.riskSubject, needs.device),
      profile:
        needs.profile && ctx.riskSubject !== undefined ? this.profiles.get(ctx.riskSubject) : undefined,
      degraded: false,
    };
  }

  private loginFailures(ctx: RequestContext, windowMs: number): LoginFailureCounts {
    const c = this.windows.get(windowMs);
    if (!c) return NO_FAILURES;
    const now = ctx.now;
    return {
      ip: c.count(`ip:${ctx.client.ip}`, now),
      asn: ctx.location.asn === undefined ? 0 : c.count(`asn:${ctx.location.asn}`, now),
      account: ctx.login ? c.count(`acct:${ctx.login.account}`, now) : 0,
      credential: ctx.login?.credential ? c.count(`cred:${ctx.login.credential}`, now) : 0,
      global: c.count('global', now),
      distinctAccountsPerIp: this.accountsByIp.get(ctx.client.ip)?.size ?? 0,
    };
  }

  recordLoginFailure(ctx: RequestContext, windowMs: number): void {
    const c = this.counter(windowMs);
    const now = ctx.now;
    c.add(`ip:${ctx.client.ip}`, now);
    c.add('global', now);
    if (ctx.location.asn !== undefined) c.add(`asn:${ctx.location.asn}`, now);
    if (ctx.login) {
      c.add(`acct:${ctx.login.account}`, now);
      if (ctx.login.credential) c.add(`cred:${ctx.login.credential}`, now);
      let accounts = this.accountsByIp.get(ctx.client.ip);
      if (!accounts) {
        accounts = new Set();
        this.accountsByIp.set(ctx.client.ip, accounts);
      }
      if (accounts.size < MAX_ACCOUNTS_PER_IP) accounts.add(ctx.login.account);
    }
  }

  recordSeen(subject: string, seen: LastSeen): void {
    this.seen.set(subject, seen);
  }

  rateLimitHit(key: string, windowMs: number, now: number): number {
    return this.counter(windowMs).add(`rl:${key}`, now);
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}
}
