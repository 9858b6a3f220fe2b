/**
 * Every Redis key and channel the operator and the enforcers share. All of a policy's keys carry
 * one hash tag, `{namespace/policy}` (the scope), so that a Lua script's keys share a Redis
 * Cluster slot and a policy's state can be found, measured and removed as one.
 */

/** The scope of a policy's keys: its namespace and name. */
export function policyScope(namespace: string, policy: string): string {
  return `${namespace}/${policy}`;
}

/** A key of the enforcers' shared state; the suffix is the state slot's own. */
export function stateKey(scope: string, suffix: string): string {
  return `rg:{${scope}}:${suffix}`;
}

/** Hash of pod name → report (enforcer-report.ts): which config each enforcer runs. */
export function enforcersKey(scope: string): string {
  return stateKey(scope, 'enforcers');
}

/** Pub/sub channel on which the operator pushes a policy's compiled config. */
export function configChannel(scope: string): string {
  return stateKey(scope, 'config');
}

/** Hash with the text and version of one URL feed, fetched by the operator (shared-feed.ts). */
export function sharedFeedKey(scope: string, feed: string): string {
  return stateKey(scope, `feed:${feed}`);
}
