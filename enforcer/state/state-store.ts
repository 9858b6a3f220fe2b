/**
 * The state signals read and outcomes write. A request reads everything its signals need in
 * one snapshot — at most one round trip to shared state — and writes go off the response path.
 * The in-memory store serves standalone enforcers and is the fallback when shared state is
 * unavailable.
 */
import type { SubjectProfile } from '../behaviour/profile.ts';
import type { RequestContext } from '../context/request-context.ts';

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

/** Where a subject was last accepted from (geo-velocity). */
export interface LastSeen {
  latitude: number;
  longitude: number;
  accuracyKm: number;
  asn: number | undefined;
  /** Epoch ms. */
  at: number;
}

/** What this request's signals need from the state. */
export interface StateNeeds {
  /** The credential-stuffing window, when this is a login route. */
  loginWindowMs: number | undefined;
  /** Whether the subject's last location is needed. */
  lastSeen: boolean;
  /** The device id to check against the subject's known devices. */
  device?: string | undefined;
  /** Whether the subject's behaviour profile is needed. */
  profile?: boolean;
}

export interface StateSnapshot {
  loginFailures: LoginFailureCounts;
  lastSeen: LastSeen | undefined;
  /** 'first' when the subject has no known device yet. */
  device: 'known' | 'new' | 'first' | undefined;
  /** The subject's learned behaviour; undefined when new or not needed. */
  profile: SubjectProfile | undefined;
  /** True when shared state was needed and could not be read: local state stood in. */
  degraded: boolean;
}

export const EMPTY_SNAPSHOT: StateSnapshot = Object.freeze({
  loginFailures: NO_FAILURES,
  lastSeen: undefined,
  device: undefined,
  profile: undefined,
  degraded: false,
});

export function needsNothing(needs: StateNeeds): boolean {
  return needs.loginWindowMs === undefined && !needs.lastSeen && needs.device === undefined && !needs.profile;
}

export interface StateStore {
  /** Reads what the signals need; synchronous when the state is local. */
  read(ctx: RequestContext, needs: StateNeeds): StateSnapshot | Promise<StateSnapshot>;
  recordLoginFailure(ctx: RequestContext, windowMs: number): void;
  recordSeen(subject: string, seen: LastSeen): void;
  /** Stores a subject's updated behaviour profile; it expires after `ttlMs` without use. */
  recordProfile(subject: string, profile: SubjectProfile, ttlMs: number): void;
  /** Remembers a device as known for a subject (bounded per subject). */
  recordDevice(subject: string, device: string): void;
  /** Counts one request against `key` and returns the count in the window. */
  rateLimitHit(key: string, windowMs: number, now: number): number | Promise<number>;
  /** Sends batched writes now (shutdown, tests). */
  flush(): Promise<void>;
  close(): Promise<void>;
}
