/** The operator's Prometheus metrics (prefix riskgate_operator_), on its own registry. */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface PolicyCounts {
  namespace: string;
  policy: string;
  selected: number;
  upToDate: number;
}

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({
    name: 'riskgate_operator_reconcile_total',
    help: 'Reconciles by result.',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly reconcileSeconds = new Histogram({
    name: 'riskgate_operator_reconcile_duration_seconds',
    help: 'Reconcile durations.',
    registers: [this.registry],
  });
  readonly startRetries = new Counter({
    name: 'riskgate_operator_start_retries_total',
    help: 'Start steps that failed and are being retried (the apiserver, RBAC, the CRD or a Secret not there yet), by step.',
    labelNames: ['step'],
    registers: [this.registry],
  });
  readonly watchErrors = new Counter({
    name: 'riskgate_operator_watch_errors_total',
    help: 'Lists and watches that failed and are retried with backoff, by resource.',
    labelNames: ['resource'],
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'riskgate_operator_leader',
    help: '1 on the replica that holds the lease.',
    registers: [this.registry],
  });
  readonly unprotected = new Gauge({
    name: 'riskgate_operator_unprotected_pods',
    help: 'Pods a RiskPolicy selects that run without an enforcer (not injected): they are not protected.',
    labelNames: ['namespace', 'policy'],
    registers: [this.registry],
  });
  readonly skipped = new Counter({
    name: 'riskgate_operator_injections_skipped_total',
    help: 'Pods the webhook saw in an opted-in namespace or with the opt-in label and left without an enforcer, by reason.',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly injections = new Counter({
    name: 'riskgate_operator_injections_total',
    help: 'Pods injected by the webhook.',
    registers: [this.registry],
  });

  /** A policy's pod counts after reconcile; undefined: the policy is gone. */
  observe(namespace: string, policy: string, census: { unprotected: readonly string[] } | undefined): void {
    if (census) this.unprotected.set({ namespace, policy }, census.unprotected.length);
    else this.unprotected.remove({ namespace, policy });
  }

  /** `queueDepth` and `policies` are read at scrape time. */
  constructor(queueDepth: () => number, policies: () => PolicyCounts[]) {
    new Gauge({
      name: 'riskgate_operator_queue_depth',
      help: 'Keys waiting in the work queue.',
      registers: [this.registry],
      collect() {
        this.set(queueDepth());
      },
    });
    new Gauge({
      name: 'riskgate_operator_enforcers',
      help: 'Pods each RiskPolicy selects, and enforcers running its current config (from status).',
      labelNames: ['namespace', 'policy', 'state'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const p of policies()) {
          const labels = { namespace: p.namespace, policy: p.policy };
          this.set({ ...labels, state: 'selected' }, p.selected);
          this.set({ ...labels, state: 'up_to_date' }, p.upToDate);
        }
      },
    });
  }
}
