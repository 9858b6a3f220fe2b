/**
 * Route sensitivity tightens (or loosens) the policy's thresholds by a fixed number of points,
 * documented in the API: low +10, medium 0, high -15, critical -30. Order is kept.
 */
import type { Sensitivity } from '../../api/riskpolicy.ts';

export interface Thresholds {
  challenge: number;
  restrict: number;
  deny: number;
}

export const SENSITIVITY_OFFSET: Record<Sensitivity, number> = {
  low: 10,
  medium: 0,
  high: -15,
  critical: -30,
};

const clamp = (v: number) => Math.min(100, Math.max(1, v));

export function thresholdsFor(base: Thresholds, sensitivity: Sensitivity): Thresholds {
  const o = SENSITIVITY_OFFSET[sensitivity];
  const challenge = clamp(base.challenge + o);
  const restrict = Math.max(challenge, clamp(base.restrict + o));
  const deny = Math.max(restrict, clamp(base.deny + o));
  return { challenge, restrict, deny };
}
