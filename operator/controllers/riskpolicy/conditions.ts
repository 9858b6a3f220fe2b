/**
 * The conditions a RiskPolicy's status carries, computed from what reconcile observed:
 *   Ready       the spec compiled and its config is published (False: invalid, last good kept)
 *   FeedsReady  every URL feed was fetched for the cluster (False: one failed; enforcers run on
 *               the last good list, or an empty one, and say they are stale)
 *   Conflict    another policy selects some of the same pods; the oldest enforces (ownership.ts)
 * lastTransitionTime moves only when a condition's status does.
 */
import type { MirroredFeedStatus } from '../../feeds/feed-mirror.ts';
import type { Validated } from './desired-state.ts';
import { type PodCensus, someOf } from './pod-census.ts';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

type Observed = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

export function readyCondition(validated: Validated, hash: string | undefined): Observed {
  return validated.ok
    ? {
        type: 'Ready',
        status: 'True',
        reason: validated.warnings.length > 0 ? 'CompiledWithWarnings' : 'Compiled',
        message: [`config ${hash} published`, ...validated.warnings].join('; '),
      }
    : {
        type: 'Ready',
        status: 'False',
        reason: validated.reason,
        message: `${validated.message}${hash ? `; enforcers keep running config ${hash}` : ''}`,
      };
}

/**
 * Only for a policy with URL feeds. `feeds` undefined: the operator has no Redis, so each
 * enforcer fetches for itself and reports in its own /readyz and metrics.
 */
export function feedsCondition(
  feedNames: readonly string[],
  feeds: readonly MirroredFeedStatus[] | undefined,
): Observed | undefined {
  if (feedNames.length === 0) return undefined;
  if (!feeds) {
    return {
      type: 'FeedsReady',
      status: 'Unknown',
      reason: 'FetchedByEnforcers',
      message: 'no Redis to share feeds through: each enforcer fetches them (see its /readyz)',
    };
  }
  const failed = feeds.filter((f) => f.lastError !== undefined);
  const pending = feeds.filter((f) => f.fetchedAt === 0 && f.lastError === undefined);
  if (failed.length > 0) {
    return {
      type: 'FeedsReady',
      status: 'False',
      reason: 'FetchFailed',
      message: failed
        .map(
          (f) =>
            `${f.name}: ${f.lastError} (${f.fetchedAt > 0 ? `enforcers keep the list of ${new Date(f.fetchedAt).toISOString()}` : 'enforcers run without it'})`,
        )
        .join('; '),
    };
  }
  if (pending.length > 0 || feeds.length < feedNames.length) {
    return {
      type: 'FeedsReady',
      status: 'Unknown',
      reason: 'Fetching',
      message: `not fetched yet: ${someOf(feedNames.filter((n) => !feeds.some((f) => f.name === n && f.fetchedAt > 0)))}`,
    };
  }
  return {
    type: 'FeedsReady',
    status: 'True',
    reason: 'Fetched',
    message: feeds.map((f) => `${f.name}: ${f.entries} entries`).join('; '),
  };
}

export function conflictCondition(self: string, census: PodCensus): Observed {
  if (census.shared.size === 0) {
    return {
      type: 'Conflict',
      status: 'False',
      reason: 'NoOverlap',
      message: 'no other policy selects these pods',
    };
  }
  const parts: string[] = [];
  for (const [owner, pods] of census.shared) {
    parts.push(
      owner === self
        ? `other policies also select ${someOf(pods)}; this policy enforces on them (it is the oldest)`
        : `${someOf(pods)} enforced by ${owner}, the older policy; this policy does not apply to them`,
    );
  }
  return { type: 'Conflict', status: 'True', reason: 'SelectorOverlap', message: parts.join('; ') };
}

/** The new conditions, each keeping its transition time while its status holds. */
export function withTransitions(
  observed: readonly Observed[],
  before: readonly Condition[] | undefined,
  generation: number,
  now: Date,
): Condition[] {
  const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z');
  return observed.map((c) => {
    const previous = before?.find((b) => b.type === c.type);
    return {
      ...c,
      observedGeneration: generation,
      lastTransitionTime: previous && previous.status === c.status ? previous.lastTransitionTime : stamp,
    };
  });
}

/** Conditions whose status became `status` in this reconcile. */
export function turned(
  now: readonly Condition[],
  before: readonly Condition[] | undefined,
  type: string,
  status: Condition['status'],
): Condition | undefined {
  const c = now.find((x) => x.type === type);
  const b = before?.find((x) => x.type === type);
  return c?.status === status && b?.status !== status ? c : undefined;
}
