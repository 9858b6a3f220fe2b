/**
 * The identity of a policy's config: enforcers report the hash they run, the operator writes
 * the hash it published into status, and both compute it here, from the validated spec.
 */
import { createHash } from 'node:crypto';
import type { RiskPolicy } from '../api/riskpolicy.ts';

export function policyHash(policy: RiskPolicy): string {
  return createHash('sha256').update(JSON.stringify(policy.spec)).digest('hex').slice(0, 16);
}
