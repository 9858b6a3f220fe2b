/**
 * The state signals read and outcomes write. The in-memory store serves standalone enforcers and
 * is the fallback when shared state is unavailable.
 */
import type { RequestContext } from '../context/request-context.ts';
import type { LastSeen } from '../signals/geo-velocity.ts';

export interface LoginFailureCounts {
  ip: number;
  asn: number;
  account: number;
  credential: number;
  global: number;
  distinctAccountsPerIp: number;
}

export const NO_FAILURES: LoginFailureCounts = Object.freeze({
  ip: 0,
  asn: 0,
  account: 0,
  credential: 0,
  global: 0,
  distinctAccountsPerIp: 0,
});

export interface StateStore {
  loginFailures(ctx: RequestContext, windowMs: number): LoginFailureCounts;
  recordLoginFailure(ctx: RequestContext, windowMs: number): void;
  /** Where a subject was last accepted from (geo-velocity). */
  lastSeen(subject: string): LastSeen | undefined;
  recordSeen(subject: string, seen: LastSeen): void;
  /** Counts one request against `key` and returns the count in the window. */
  rateLimitHit(key: string, windowMs: number, now: number): number;
}
