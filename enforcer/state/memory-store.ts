import { LRUCache } from 'lru-cache';
import type { RequestContext } from '../context/request-context.ts';
import type { LastSeen } from '../signals/geo-velocity.ts';
import { SlidingWindowCounter } from './sliding-window.ts';
import { type LoginFailureCounts, NO_FAILURES, type StateStore } from './state-store.ts';

const MAX_KEYS = 100_000;
const MAX_ACCOUNTS_PER_IP = 256;

/** Bounded in-memory state for one enforcer process. */
export class MemoryStateStore implements StateStore {
  private readonly windows = new Map<number, SlidingWindowCounter>();
  private readonly accountsByIp = new LRUCache<string, Set<string>>({ max: MAX_KEYS, ttl: 60 * 60_000 });
  private readonly seen = new LRUCache<string, LastSeen>({ max: MAX_KEYS, ttl: 7 * 24 * 60 * 60_000 });

  lastSeen(subject: string): LastSeen | undefined {
    return this.seen.get(subject);
  }

  recordSeen(subject: string, seen: LastSeen): void {
    this.seen.set(subject, seen);
  }

  private counter(windowMs: number): SlidingWindowCounter {
    let c = this.windows.get(windowMs);
    if (!c) {
      c = new SlidingWindowCounter(windowMs, MAX_KEYS);
      this.windows.set(windowMs, c);
    }
    return c;
  }

  loginFailures(ctx: RequestContext, windowMs: number): LoginFailureCounts {
    const c = this.windows.get(windowMs);
    if (!c) return NO_FAILURES;
    const now = ctx.now;
    return {
      ip: c.count(`f:ip:${ctx.client.ip}`, now),
      asn: ctx.location.asn === undefined ? 0 : c.count(`f:asn:${ctx.location.asn}`, now),
      account: ctx.login ? c.count(`f:acct:${ctx.login.account}`, now) : 0,
      credential: ctx.login?.credential ? c.count(`f:cred:${ctx.login.credential}`, now) : 0,
      global: c.count('f:global', now),
      distinctAccountsPerIp: this.accountsByIp.get(ctx.client.ip)?.size ?? 0,
    };
  }

  recordLoginFailure(ctx: RequestContext, windowMs: number): void {
    const c = this.counter(windowMs);
    const now = ctx.now;
    c.add(`f:ip:${ctx.client.ip}`, now);
    c.add('f:global', now);
    if (ctx.location.asn !== undefined) c.add(`f:asn:${ctx.location.asn}`, now);
    if (ctx.login) {
      c.add(`f:acct:${ctx.login.account}`, now);
      if (ctx.login.credential) c.add(`f:cred:${ctx.login.credential}`, now);
      let accounts = this.accountsByIp.get(ctx.client.ip);
      if (!accounts) {
        accounts = new Set();
        this.accountsByIp.set(ctx.client.ip, accounts);
      }
      if (accounts.size < MAX_ACCOUNTS_PER_IP) accounts.add(ctx.login.account);
    }
  }

  rateLimitHit(key: string, windowMs: number, now: number): number {
    return this.counter(windowMs).add(`rl:${key}`, now);
  }
}
