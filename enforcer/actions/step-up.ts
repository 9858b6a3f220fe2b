/**
 * Step-up authentication per RFC 9470: an authenticated subject whose request scored a
 * challenge is told which authentication context (acr) and how recent an authentication
 * (max_age) it needs; a token that meets them passes.
 */
import type { JWTPayload } from 'jose';
import type { CompiledActions } from '../policy/compiled-policy.ts';

type StepUp = Pick<CompiledActions['challenge'], 'acrValues' | 'maxAgeSeconds'>;

export function stepUpSatisfied(claims: JWTPayload | undefined, stepUp: StepUp, nowMs: number): boolean {
  if (!claims) return false;
  const acr = claims['acr'];
  if (typeof acr !== 'string' || !stepUp.acrValues.includes(acr)) return false;
  if (stepUp.maxAgeSeconds === undefined) return true;
  const authTime = claims['auth_time'];
  return typeof authTime === 'number' && nowMs / 1000 - authTime <= stepUp.maxAgeSeconds;
}

export function stepUpChallengeHeader(stepUp: StepUp): string {
  let header = `Bearer realm="riskgate", error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="${stepUp.acrValues.join(' ')}"`;
  if (stepUp.maxAgeSeconds !== undefined) header += `, max_age=${stepUp.maxAgeSeconds}`;
  return header;
}
