/**
 * The RiskPolicy controller. Informers on RiskPolicies, Pods and the ConfigMaps it owns; every
 * handler only enqueues a policy key; workers take keys from a deduplicating queue with per-key
 * backoff and reconcile them. A periodic resync keeps enforcer counts fresh (level-triggered).
 */
import type {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesListObject,
  NetworkingV1Api,
  V1ConfigMap,
  V1Pod,
} from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../../../api/riskpolicy.ts';
import { ResilientInformer } from '../../kube/resilient-informer.ts';
import { WorkQueue } from '../../workqueue/work-queue.ts';
import { POLICY_LABEL, type RiskPolicyObject } from './desired-state.ts';
import { type ReconcileDeps, reconcile } from './reconcile.ts';

export interface ControllerDeps {
  kubeconfig: KubeConfig;
  core: CoreV1Api;
  networking: NetworkingV1Api;
  custom: CustomObjectsApi;
  upToDate: ReconcileDeps['upToDate'];
  event: ReconcileDeps['event'];
  publish: ReconcileDeps['publish'];
  signerPublicKeyPem: string;
  syncFeeds: ReconcileDeps['syncFeeds'];
  feedStatus: ReconcileDeps['feedStatus'];
  redisAuth?: ReconcileDeps['redisAuth'];
  observe: ReconcileDeps['observe'];
  onReconcile?: (key: string, result: 'success' | 'error', seconds: number, err?: unknown) => void;
  /** A list or watch failed (it is retried with backoff). */
  onWatchError?: (resource: string, err: unknown) => void;
  workers?: number;
  resyncMs?: number;
}

export const keyOf = (o: { metadata?: { namespace?: string; name?: string } }) =>
  `${o.metadata?.namespace}/${o.metadata?.name}`;

/** Watches RiskPolicies; shared by the controller and the webhook (which runs on every replica). */
export function policyInformer(
  kc: KubeConfig,
  custom: CustomObjectsApi,
  onChange: (o: RiskPolicyObject) => void,
  onError?: (err: unknown) => void,
) {
  return new ResilientInformer<RiskPolicyObject & { metadata: { name: string; namespace: string } }>(
    kc,
    `/apis/${GROUP}/${VERSION}/${PLURAL}`,
    () =>
      custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL }) as Promise<
        KubernetesListObject<RiskPolicyObject & { metadata: { name: string; namespace: string } }>
      >,
    { onChange, onDelete: onChange, ...(onError ? { onError } : {}) },
  );
}

export class RiskPolicyController {
  readonly queue = new WorkQueue();
  private readonly deps: ControllerDeps;
  private readonly policies: ReturnType<typeof policyInformer>;
  private readonly pods: ResilientInformer<V1Pod>;
  private readonly configMaps: ResilientInformer<V1ConfigMap>;

  constructor(deps: ControllerDeps, policies: ReturnType<typeof policyInformer>) {
    this.deps = deps;
    this.policies = policies;
    const enqueueNamespace = (ns: string | undefined) => {
      for (const p of this.policies.list(ns)) this.queue.add(keyOf(p));
    };
    this.pods = new ResilientInformer<V1Pod>(
      deps.kubeconfig,
      '/api/v1/pods',
      () => deps.core.listPodForAllNamespaces(),
      {
        onChange: (p) => enqueueNamespace(p.metadata?.namespace),
        onDelete: (p) => enqueueNamespace(p.metadata?.namespace),
        onError: (err) => deps.onWatchError?.('pods', err),
      },
    );
    const owned = (cm: V1ConfigMap) => {
      const policy = cm.metadata?.labels?.[POLICY_LABEL];
      if (policy) this.queue.add(`${cm.metadata?.namespace}/${policy}`);
    };
    this.configMaps = new ResilientInformer<V1ConfigMap>(
      deps.kubeconfig,
      '/api/v1/configmaps',
      () => deps.core.listConfigMapForAllNamespaces({ labelSelector: POLICY_LABEL }),
      { onChange: owned, onDelete: owned, onError: (err) => deps.onWatchError?.('configmaps', err) },
      { labelSelector: POLICY_LABEL },
    );
  }

  /** A policy changed: it, and its neighbours, whose overlap with it may have changed. */
  enqueue(o: RiskPolicyObject): void {
    this.queue.add(keyOf(o));
    for (const p of this.policies.list(o.metadata.namespace)) this.queue.add(keyOf(p));
  }

  /** Runs until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.pods.start(), this.configMaps.start()]);
    // Reconciling from a cache that has not listed yet would count no pods and try to create
    // ConfigMaps that exist; leadership may end while the lists are still failing.
    const aborted = new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await Promise.race([
      Promise.all([this.policies.synced, this.pods.synced, this.configMaps.synced]),
      aborted,
    ]);
    if (signal.aborted) {
      await Promise.all([this.pods.stop(), this.configMaps.stop()]);
      return;
    }
    for (const p of this.policies.list()) this.queue.add(keyOf(p));
    const resync = setInterval(() => {
      for (const p of this.policies.list()) this.queue.add(keyOf(p));
    }, this.deps.resyncMs ?? 30_000);
    signal.addEventListener('abort', () => this.queue.shutdown(), { once: true });

    const reconcileDeps: ReconcileDeps = {
      core: this.deps.core,
      networking: this.deps.networking,
      custom: this.deps.custom,
      getPolicy: (ns, name) => this.policies.get(name, ns),
      policiesIn: (ns) => this.policies.list(ns),
      getConfigMap: (ns, name) => this.configMaps.get(name, ns),
      podsIn: (ns) => this.pods.list(ns),
      feedStatus: this.deps.feedStatus,
      ...(this.deps.redisAuth ? { redisAuth: this.deps.redisAuth } : {}),
      observe: this.deps.observe,
      signerPublicKeyPem: this.deps.signerPublicKeyPem,
      upToDate: this.deps.upToDate,
      event: this.deps.event,
      publish: this.deps.publish,
      syncFeeds: this.deps.syncFeeds,
    };
    const worker = async () => {
      for (;;) {
        const key = await this.queue.get();
        if (key === undefined) return;
        const started = performance.now();
        try {
          await reconcile(reconcileDeps, key);
          this.queue.forget(key);
          this.deps.onReconcile?.(key, 'success', (performance.now() - started) / 1000);
        } catch (err) {
          this.queue.addRateLimited(key);
          this.deps.onReconcile?.(key, 'error', (performance.now() - started) / 1000, err);
        } finally {
          this.queue.done(key);
        }
      }
    };
    await Promise.all(Array.from({ length: this.deps.workers ?? 2 }, worker));
    clearInterval(resync);
    await Promise.all([this.pods.stop(), this.configMaps.stop()]);
  }
}
