/**
 * Reconcile one RiskPolicy, level-triggered and idempotent: read the policy from the cache,
 * make the owned ConfigMap and NetworkPolicy what they should be, then write status only if it
 * changed. A policy that no longer exists has its objects removed (owner references do the same
 * where a garbage collector runs; doing it here too keeps clusters without one clean). An
 * invalid policy never replaces the last good config: Ready=False says why.
 */
import type {
  CoreV1Api,
  CustomObjectsApi,
  NetworkingV1Api,
  V1ConfigMap,
  V1Pod,
} from '@kubernetes/client-node';
import { GROUP, PLURAL, type RiskPolicy, VERSION } from '../../../api/riskpolicy.ts';
import { sharedFeedsOf } from '../../../contract/shared-feed.ts';
import { configMapName } from '../../../contract/sidecar.ts';
import type { MirroredFeedStatus } from '../../feeds/feed-mirror.ts';
import {
  type Condition,
  conflictCondition,
  feedsCondition,
  readyCondition,
  turned,
  withTransitions,
} from './conditions.ts';
import {
  desiredConfigMap,
  desiredNetworkPolicy,
  ISSUED_AT_FILE,
  POLICY_FILE,
  type RiskPolicyObject,
  SIGNER_KEY_FILE,
  validateForCluster,
} from './desired-state.ts';
import { type PodCensus, podCensus, selectorOf, someOf } from './pod-census.ts';

export interface ReconcileDeps {
  /** Keeps the policy's URL feeds fetched once for the cluster (undefined: none to keep). */
  syncFeeds: (namespace: string, name: string, policy: RiskPolicy | undefined) => void;
  /** Pushes a newly compiled config to the enforcers (Redis pub/sub), ahead of the kubelet. */
  publish: (namespace: string, policy: string, text: string, issuedAt: number) => Promise<void>;
  /** The public half of the key the operator signs pushed configs with. */
  signerPublicKeyPem: string;
  /** The owned ConfigMap, from the informer's cache. */
  getConfigMap: (namespace: string, name: string) => V1ConfigMap | undefined;
  core: CoreV1Api;
  networking: NetworkingV1Api;
  custom: CustomObjectsApi;
  getPolicy: (namespace: string, name: string) => RiskPolicyObject | undefined;
  podsIn: (namespace: string) => readonly V1Pod[];
  /** Pods whose enforcer reports running `hash` (from Redis), when reports are available. */
  upToDate: (namespace: string, policy: string, hash: string, pods: readonly string[]) => Promise<number>;
  /** The valid and invalid policies of a namespace, for overlapping selectors. */
  policiesIn: (namespace: string) => readonly RiskPolicyObject[];
  /** The operator's fetches of the policy's URL feeds; undefined when it does not fetch them. */
  feedStatus: (namespace: string, name: string) => readonly MirroredFeedStatus[] | undefined;
  /** Keeps the Redis password's copy in a namespace with policies (undefined: no password). */
  redisAuth?: { ensure(namespace: string): Promise<void>; remove(namespace: string): Promise<void> };
  /** Told each reconcile's pod counts (metrics). */
  observe: (namespace: string, name: string, census: PodCensus | undefined) => void;
  event: (
    obj: RiskPolicyObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ) => Promise<void>;
}

const notFound = (err: unknown) => (err as { code?: number }).code === 404;

async function ignoreNotFound(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!notFound(err)) throw err;
  }
}

export async function reconcile(deps: ReconcileDeps, key: string): Promise<void> {
  const [namespace, name] = key.split('/') as [string, string];
  const obj = deps.getPolicy(namespace, name);
  const owned = configMapName(name);
  if (!obj) {
    deps.syncFeeds(namespace, name, undefined);
    deps.observe(namespace, name, undefined);
    await ignoreNotFound(deps.core.deleteNamespacedConfigMap({ name: owned, namespace }));
    await ignoreNotFound(deps.networking.deleteNamespacedNetworkPolicy({ name: owned, namespace }));
    if (deps.policiesIn(namespace).length === 0) await deps.redisAuth?.remove(namespace);
    return;
  }

  const validated = validateForCluster(obj);
  const previousStatus = (obj.status ?? {}) as {
    configHash?: string;
    conditions?: Condition[];
    enforcers?: { selected: number; upToDate: number; unprotected?: number };
  };
  let hash = previousStatus.configHash;
  if (validated.ok) {
    deps.syncFeeds(namespace, name, validated.policy);
    await deps.redisAuth?.ensure(namespace);
    // The config changes when the compiled policy or the signer key does; only then is it
    // issued anew, written, pushed and announced — once per change, whatever triggers reconcile.
    // The cache may not hold a ConfigMap created a moment ago; then the live one is read.
    let current = deps.getConfigMap(namespace, owned);
    if (!current) {
      try {
        current = await deps.core.readNamespacedConfigMap({ name: owned, namespace });
      } catch (err) {
        if (!notFound(err)) throw err;
      }
    }
    const unchanged =
      current?.data?.[POLICY_FILE] !== undefined &&
      current.data[POLICY_FILE] ===
        desiredConfigMap(obj, validated, deps.signerPublicKeyPem, 0).data![POLICY_FILE] &&
      current.data[SIGNER_KEY_FILE] === deps.signerPublicKeyPem;
    if (!unchanged) {
      const issuedAt = Math.max(Date.now(), Number(current?.data?.[ISSUED_AT_FILE] ?? 0) + 1);
      const cm = desiredConfigMap(obj, validated, deps.signerPublicKeyPem, issuedAt);
      if (!current) await deps.core.createNamespacedConfigMap({ namespace, body: cm });
      else await deps.core.replaceNamespacedConfigMap({ name: owned, namespace, body: cm });
      await deps.publish(namespace, name, cm.data![POLICY_FILE]!, issuedAt);
      await deps.event(
        obj,
        'Normal',
        'ConfigApplied',
        `compiled config ${validated.hash} written to ConfigMap ${owned} and pushed to its enforcers`,
      );
    }
    hash = validated.hash;

    if (validated.policy.spec.networkPolicy.enabled) {
      const np = desiredNetworkPolicy(obj, validated.policy);
      let existing: { spec?: unknown } | undefined;
      try {
        existing = await deps.networking.readNamespacedNetworkPolicy({ name: owned, namespace });
      } catch (err) {
        if (!notFound(err)) throw err;
      }
      if (!existing) await deps.networking.createNamespacedNetworkPolicy({ namespace, body: np });
      else if (canonical(existing.spec) !== canonical(np.spec)) {
        await deps.networking.replaceNamespacedNetworkPolicy({ name: owned, namespace, body: np });
      }
    } else {
      await ignoreNotFound(deps.networking.deleteNamespacedNetworkPolicy({ name: owned, namespace }));
    }
  }

  const census = podCensus(
    obj,
    selectorOf(obj, validated.ok ? validated.policy.spec.selector : undefined),
    deps.podsIn(namespace),
    deps.policiesIn(namespace),
  );
  const upToDate = hash ? await deps.upToDate(namespace, name, hash, census.protected) : 0;

  const generation = obj.metadata.generation ?? 0;
  const feedNames = validated.ok ? sharedFeedsOf(validated.policy.spec).map((f) => f.name) : [];
  const conditions = withTransitions(
    [
      readyCondition(validated, hash),
      conflictCondition(name, census),
      ...[feedsCondition(feedNames, deps.feedStatus(namespace, name))].filter((c) => c !== undefined),
    ],
    previousStatus.conditions,
    generation,
    new Date(),
  );
  const status = {
    observedGeneration: generation,
    conditions,
    ...(hash ? { configHash: hash } : {}),
    enforcers: {
      selected: census.selected.length,
      upToDate,
      unprotected: census.unprotected.length,
    },
  };
  deps.observe(namespace, name, census);
  if (canonical(previousStatus) === canonical(status)) return;

  const before = previousStatus.conditions;
  if (!validated.ok && turned(conditions, before, 'Ready', 'False')) {
    await deps.event(obj, 'Warning', validated.reason, validated.message);
  }
  const conflict = turned(conditions, before, 'Conflict', 'True');
  if (conflict) await deps.event(obj, 'Warning', 'SelectorOverlap', conflict.message);
  const feeds = turned(conditions, before, 'FeedsReady', 'False');
  if (feeds) await deps.event(obj, 'Warning', 'FeedFetchFailed', feeds.message);
  if (census.unprotected.length > 0 && (previousStatus.enforcers?.unprotected ?? 0) === 0) {
    await deps.event(
      obj,
      'Warning',
      'PodsUnprotected',
      `${someOf(census.unprotected)} selected but running without an enforcer (created before the policy, in a namespace without riskgate.dev/inject=enabled, or admitted while the webhook was unavailable); restart them to inject it`,
    );
  }
  await deps.custom.replaceNamespacedCustomObjectStatus({
    group: GROUP,
    version: VERSION,
    plural: PLURAL,
    namespace,
    name,
    body: { ...obj, status },
  });
}

/** JSON with sorted keys: the apiserver hands status back with its keys sorted. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
