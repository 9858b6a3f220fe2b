/** From a score and the route's thresholds to a decision. */
import type { Thresholds } from './thresholds.ts';

export type Decision = 'allow' | 'challenge' | 'restrict' | 'deny';

export function decide(score: number, t: Thresholds): Decision {
  if (score >= t.deny) return 'deny';
  if (score >= t.restrict) return 'restrict';
  if (score >= t.challenge) return 'challenge';
  return 'allow';
}

/** Sum of contributions, capped at 100. */
export function scoreOf(contributions: readonly { points: number }[]): number {
  let total = 0;
  for (const c of contributions) total += c.points;
  return Math.min(100, Math.max(0, Math.round(total)));
}
