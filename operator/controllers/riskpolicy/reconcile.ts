/**
 * Reconcile one RiskPolicy, level-triggered and idempotent: read the policy from the cache,
 * make the owned ConfigMap and NetworkPolicy what they should be, then write status only if it
 * changed. A policy that no longer exists has its objects removed (owner references do the same
 * where a garbage collector runs; doing it here too keeps clusters without one clean). An
 * invalid policy never replaces the last good config: Ready=False says why.
 */
import type { CoreV1Api, CustomObjectsApi, NetworkingV1Api, V1Pod } from '@kubernetes/client-node';
import { GROUP, PLURAL, type RiskPolicy, VERSION } from '../../../api/riskpolicy.ts';
import { configMapName } from '../../../contract/sidecar.ts';
import { selects } from '../../kube/label-selector.ts';
import {
  desiredConfigMap,
  desiredNetworkPolicy,
  POLICY_FILE,
  type RiskPolicyObject,
  validateForCluster,
} from './desired-state.ts';

export interface ReconcileDeps {
  /** Keeps the policy's URL feeds fetched once for the cluster (undefined: none to keep). */
  syncFeeds: (namespace: string, name: string, policy: RiskPolicy | undefined) => void;
  /** Pushes a newly compiled config to the enforcers (Redis pub/sub), ahead of the kubelet. */
  publish: (namespace: string, policy: string, text: string) => Promise<void>;
  core: CoreV1Api;
  networking: NetworkingV1Api;
  custom: CustomObjectsApi;
  getPolicy: (namespace: string, name: string) => RiskPolicyObject | undefined;
  podsIn: (namespace: string) => readonly V1Pod[];
  /** Pods whose enforcer reports running `hash` (from Redis), when reports are available. */
  upToDate: (namespace: string, policy: string, hash: string, pods: readonly string[]) => Promise<number>;
  event: (
    obj: RiskPolicyObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ) => Promise<void>;
}

interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
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
    await ignoreNotFound(deps.core.deleteNamespacedConfigMap({ name: owned, namespace }));
    await ignoreNotFound(deps.networking.deleteNamespacedNetworkPolicy({ name: owned, namespace }));
    return;
  }

  const validated = validateForCluster(obj);
  const previousStatus = (obj.status ?? {}) as {
    configHash?: string;
    conditions?: Condition[];
    enforcers?: { selected: number; upToDate: number };
  };
  let hash = previousStatus.configHash;
  if (validated.ok) {
    deps.syncFeeds(namespace, name, validated.policy);
    const cm = desiredConfigMap(obj, validated);
    let current: { data?: Record<string, string> } | undefined;
    try {
      current = await deps.core.readNamespacedConfigMap({ name: owned, namespace });
    } catch (err) {
      if (!notFound(err)) throw err;
    }
    if (!current) await deps.core.createNamespacedConfigMap({ namespace, body: cm });
    else if (current.data?.[POLICY_FILE] !== cm.data![POLICY_FILE]) {
      await deps.core.replaceNamespacedConfigMap({ name: owned, namespace, body: cm });
    }
    if (hash !== validated.hash) {
      await deps.publish(namespace, name, cm.data![POLICY_FILE]!);
      await deps.event(
        obj,
        'Normal',
        'ConfigApplied',
        `compiled config ${validated.hash} published to ConfigMap ${owned}`,
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
      else if (JSON.stringify(existing.spec) !== JSON.stringify(np.spec)) {
        await deps.networking.replaceNamespacedNetworkPolicy({ name: owned, namespace, body: np });
      }
    } else {
      await ignoreNotFound(deps.networking.deleteNamespacedNetworkPolicy({ name: owned, namespace }));
    }
  }

  const selector = validated.ok ? validated.policy.spec.selector : undefined;
  const selected = selector
    ? deps
        .podsIn(namespace)
        .filter((p) => !p.metadata?.deletionTimestamp && selects(selector, p.metadata?.labels ?? {}))
    : [];
  const upToDate = hash
    ? await deps.upToDate(
        namespace,
        name,
        hash,
        selected.map((p) => p.metadata!.name!),
      )
    : 0;

  const generation = obj.metadata.generation ?? 0;
  const before = previousStatus.conditions?.find((c) => c.type === 'Ready');
  const ready: Omit<Condition, 'lastTransitionTime'> = validated.ok
    ? {
        type: 'Ready',
        status: 'True',
        observedGeneration: generation,
        reason: validated.warnings.length > 0 ? 'CompiledWithWarnings' : 'Compiled',
        message: [`config ${hash} published`, ...validated.warnings].join('; '),
      }
    : {
        type: 'Ready',
        status: 'False',
        observedGeneration: generation,
        reason: validated.reason,
        message: `${validated.message}${hash ? `; enforcers keep running config ${hash}` : ''}`,
      };
  const transitioned = before?.status !== ready.status;
  const condition: Condition = {
    ...ready,
    lastTransitionTime:
      transitioned || !before ? new Date().toISOString().replace(/\.\d+Z$/, 'Z') : before.lastTransitionTime,
  };
  const status = {
    observedGeneration: generation,
    conditions: [condition],
    ...(hash ? { configHash: hash } : {}),
    enforcers: { selected: selected.length, upToDate },
  };
  const same =
    JSON.stringify({ ...previousStatus, conditions: undefined }) ===
      JSON.stringify({ ...status, conditions: undefined }) &&
    JSON.stringify(previousStatus.conditions) === JSON.stringify(status.conditions);
  if (same) return;
  if (transitioned && !validated.ok) await deps.event(obj, 'Warning', validated.reason, validated.message);
  await deps.custom.replaceNamespacedCustomObjectStatus({
    group: GROUP,
    version: VERSION,
    plural: PLURAL,
    namespace,
    name,
    body: { ...obj, status },
  });
}
