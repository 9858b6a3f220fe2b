/**
 * How many of a policy's pods run its current config: each enforcer reports the hash it runs in
 * Redis (contract/enforcer-report.ts); the operator counts the fresh reports of the current hash.
 */
import type { Redis } from 'ioredis';
import { decodeReport, isUpToDate } from '../../contract/enforcer-report.ts';
import { enforcersKey, policyScope } from '../../contract/redis-keys.ts';

export type CountUpToDate = (
  namespace: string,
  policy: string,
  hash: string,
  pods: readonly string[],
) => Promise<number>;

/** Without Redis (or while it is down) no report can be read: 0 up to date. */
export function enforcerReports(redis: Redis | undefined): CountUpToDate {
  return async (namespace, policy, hash, pods) => {
    if (!redis || redis.status !== 'ready' || pods.length === 0) return 0;
    const reports = await redis
      .hgetall(enforcersKey(policyScope(namespace, policy)))
      .catch(() => ({}) as Record<string, string>);
    const now = Date.now();
    return pods.filter((pod) => isUpToDate(decodeReport(reports[pod]), hash, now)).length;
  };
}
