/**
 * Leader election on a coordination.k8s.io Lease, with client-go's timings: the holder renews
 * every retry period; a replica takes the lease over once it has gone unrenewed for the lease
 * duration; writes carry the lease's resourceVersion, so two candidates cannot both win. A
 * leader that cannot renew in time steps down before another can take over.
 */
import {
  type CoordinationV1Api,
  type V1Lease,
  V1MicroTime,
  type V1OwnerReference,
} from '@kubernetes/client-node';

export interface ElectorOptions {
  api: CoordinationV1Api;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  onError?: (err: unknown) => void;
  /** The operator's Deployment: the Lease goes when it does (kube/owner.ts). */
  owner?: V1OwnerReference | undefined;
}

const statusOf = (err: unknown) => (err as { code?: number }).code;

export class LeaseElector {
  private readonly o: Required<Omit<ElectorOptions, 'onError' | 'owner'>> &
    Pick<ElectorOptions, 'onError' | 'owner'>;
  private timer: NodeJS.Timeout | undefined;
  private leading = false;
  private lastRenew = 0;
  private stopped = false;

  constructor(options: ElectorOptions) {
    this.o = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, ...options };
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    const tick = async () => {
      if (this.stopped) return;
      try {
        await this.tryAcquireOrRenew();
      } catch (err) {
        this.o.onError?.(err);
      }
      if (this.leading && Date.now() - this.lastRenew > this.o.renewDeadlineMs) this.stepDown();
      if (!this.stopped) this.timer = setTimeout(tick, this.o.retryPeriodMs);
    };
    void tick();
  }

  /** MicroTime fields: the apiserver wants six fractional digits, which Date does not print. */
  private lease(existing: V1Lease | undefined, now: V1MicroTime): V1Lease {
    const transitions = existing?.spec?.leaseTransitions ?? 0;
    const changed = existing?.spec?.holderIdentity !== this.o.identity;
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.o.name,
        namespace: this.o.namespace,
        ...(this.o.owner ? { ownerReferences: [this.o.owner] } : {}),
        ...(existing?.metadata?.resourceVersion
          ? { resourceVersion: existing.metadata.resourceVersion }
          : {}),
      },
      spec: {
        holderIdentity: this.o.identity,
        leaseDurationSeconds: Math.ceil(this.o.leaseDurationMs / 1000),
        acquireTime:
          changed || !existing?.spec?.acquireTime ? now : new V1MicroTime(existing.spec.acquireTime),
        renewTime: now,
        leaseTransitions: changed && existing ? transitions + 1 : transitions,
      },
    };
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const { api, name, namespace } = this.o;
    const now = new V1MicroTime();
    let existing: V1Lease | undefined;
    try {
      existing = await api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
    if (!existing) {
      await api.createNamespacedLease({ namespace, body: this.lease(undefined, now) });
      this.becomeLeader();
      return;
    }
    const holder = existing.spec?.holderIdentity ?? '';
    const renewed = existing.spec?.renewTime ? new Date(existing.spec.renewTime).getTime() : 0;
    const duration = (existing.spec?.leaseDurationSeconds ?? 15) * 1000;
    const mine = holder === this.o.identity;
    if (!mine && holder !== '' && renewed + duration > now.getTime()) {
      if (this.leading) this.stepDown();
      return;
    }
    try {
      await api.replaceNamespacedLease({ name, namespace, body: this.lease(existing, now) });
    } catch (err) {
      if (statusOf(err) === 409) return; // another candidate won this round
      throw err;
    }
    this.becomeLeader();
  }

  private becomeLeader(): void {
    this.lastRenew = Date.now();
    if (!this.leading) {
      this.leading = true;
      this.o.onStartedLeading();
    }
  }

  private stepDown(): void {
    if (!this.leading) return;
    this.leading = false;
    this.o.onStoppedLeading();
  }

  /** Stops campaigning; a leader releases the lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (!this.leading) return;
    this.stepDown();
    try {
      const existing = await this.o.api.readNamespacedLease({
        name: this.o.name,
        namespace: this.o.namespace,
      });
      if (existing.spec?.holderIdentity === this.o.identity) {
        existing.spec.holderIdentity = '';
        if (existing.spec.renewTime) existing.spec.renewTime = new V1MicroTime(existing.spec.renewTime);
        if (existing.spec.acquireTime) existing.spec.acquireTime = new V1MicroTime(existing.spec.acquireTime);
        await this.o.api.replaceNamespacedLease({
          name: this.o.name,
          namespace: this.o.namespace,
          body: existing,
        });
      }
    } catch (err) {
      this.o.onError?.(err);
    }
  }
}
