/**
 * From contributions and the route's thresholds to a decision. One promise is kept here, for every
 * signal alike: a contribution that someone other than the requester can raise — failures counted
 * against an account, a network or everyone (a lever) — may make a request prove itself
 * (challenge), never refuse it on its own. Restrict and deny need evidence about the request
 * itself, so nobody can lock an owner or a whole network out by failing logins in their name.
 */
import type { Thresholds } from './thresholds.ts';

export type Decision = 'allow' | 'challenge' | 'restrict' | 'deny';

export interface Scored {
  points: number;
  /** Raised by others' actions, not this request's own: challenge at most. */
  lever?: boolean;
}

const RANK: Record<Decision, number> = { allow: 0, challenge: 1, restrict: 2, deny: 3 };

export function decide(score: number, t: Thresholds): Decision {
  if (score >= t.deny) return 'deny';
  if (score >= t.restrict) return 'restrict';
  if (score >= t.challenge) return 'challenge';
  return 'allow';
}

/** Sum of contributions, capped at 100. */
export function scoreOf(contributions: readonly Scored[]): number {
  let total = 0;
  for (const c of contributions) total += c.points;
  return Math.min(100, Math.max(0, Math.round(total)));
}

/**
 * The decision the contributions earn: levers count towards a challenge, and beyond it only
 * what the request's own evidence earns.
 */
export function decideContributions(contributions: readonly Scored[], t: Thresholds): Decision {
  let total = 0;
  let own = 0;
  for (const c of contributions) {
    total += c.points;
    if (!c.lever) own += c.points;
  }
  const full = decide(Math.min(100, Math.max(0, Math.round(total))), t);
  if (own === total || RANK[full] <= RANK.challenge) return full;
  const earned = decide(Math.min(100, Math.max(0, Math.round(own))), t);
  return RANK[earned] > RANK.challenge ? earned : 'challenge';
}
