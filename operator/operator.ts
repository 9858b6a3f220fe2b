/**
 * `riskgate operator`: the RiskPolicy controller (leader only, elected on a Lease), the
 * injection webhook (every replica), and an admin listener with /metrics, /healthz, /readyz.
 */
import { hostname } from 'node:os';
import {
  AdmissionregistrationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  NetworkingV1Api,
} from '@kubernetes/client-node';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import pino from 'pino';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { API_VERSION, KIND } from '../api/riskpolicy.ts';
import { configChannel } from '../enforcer/policy/config-channel.ts';
import { policyInformer, RiskPolicyController } from './controllers/riskpolicy/controller.ts';
import { validateForCluster } from './controllers/riskpolicy/desired-state.ts';
import { FeedMirror } from './controllers/riskpolicy/feed-mirror.ts';
import { selects } from './kube/label-selector.ts';
import { LeaseElector } from './leader/lease-elector.ts';
import { startAdmissionServer } from './webhook/admission-server.ts';
import { certificateDirStamp, readCertificateDir } from './webhook/certificate-dir.ts';
import { loadOrCreateCertificate } from './webhook/certificate-secret.ts';
import { generateServingCertificate, needsRenewal, type ServingCertificate } from './webhook/certificates.ts';
import type { InjectionSettings } from './webhook/inject.ts';
import { register } from './webhook/registration.ts';

export interface OperatorOptions {
  kubeconfig?: string;
  namespace: string;
  identity?: string;
  admin: { host: string; port: number };
  webhook: {
    host: string;
    port: number;
    url?: string;
    service?: { name: string; port: number };
    /** A certificate managed elsewhere (cert-manager): tls.crt, tls.key, ca.crt. */
    certDir?: string;
  };
  failurePolicy: 'Ignore' | 'Fail';
  injection: InjectionSettings;
  redisUrl?: string;
  leaseDurationMs?: number;
  retryPeriodMs?: number;
  resyncMs?: number;
}

export interface RunningOperator {
  adminUrl: string;
  webhookPort: number;
  isLeader: () => boolean;
  stop(): Promise<void>;
}

const REPORT_FRESH_MS = 30_000;

export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const log = pino({ base: { component: 'operator' }, level: process.env['RISKGATE_LOG_LEVEL'] ?? 'info' });
  const kc = new KubeConfig();
  if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
  else kc.loadFromCluster();
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const networking = kc.makeApiClient(NetworkingV1Api);
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const identity = options.identity ?? `${hostname()}-${process.pid}`;

  const registry = new Registry();
  const reconciles = new Counter({
    name: 'riskgate_operator_reconcile_total',
    help: 'Reconciles by result.',
    labelNames: ['result'],
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'riskgate_operator_reconcile_duration_seconds',
    help: 'Reconcile durations.',
    registers: [registry],
  });
  const leaderGauge = new Gauge({
    name: 'riskgate_operator_leader',
    help: '1 on the replica that holds the lease.',
    registers: [registry],
  });
  const injections = new Counter({
    name: 'riskgate_operator_injections_total',
    help: 'Pods injected by the webhook.',
    registers: [registry],
  });

  const redis = options.redisUrl
    ? new Redis(options.redisUrl, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: 1000,
      })
    : undefined;
  redis?.on('error', () => {});

  // Every replica watches policies: the webhook needs them; only the leader reconciles.
  let controller: RiskPolicyController | undefined;
  const policies = policyInformer(kc, custom, (o) => controller?.enqueue(o));
  await policies.start();
  await policies.synced;

  const policyFor = (namespace: string, labels: Record<string, string>) => {
    const matching = policies
      .list(namespace)
      .filter((p) => {
        const v = validateForCluster(p);
        return v.ok && selects(v.policy.spec.selector, labels);
      })
      .map((p) => p.metadata.name)
      .sort();
    return matching[0];
  };

  const certNames = options.webhook.service
    ? [
        `${options.webhook.service.name}.${options.namespace}.svc`,
        `${options.webhook.service.name}.${options.namespace}.svc.cluster.local`,
      ]
    : ['localhost'];
  // In a cluster the replicas share one certificate through a Secret; outside, each has its own.
  let cert: ServingCertificate = options.webhook.certDir
    ? readCertificateDir(options.webhook.certDir)
    : options.webhook.service
      ? await loadOrCreateCertificate(core, options.namespace, 'riskgate-webhook-tls', certNames)
      : await generateServingCertificate(certNames, ['127.0.0.1']);
  const webhook = await startAdmissionServer(
    {
      cert: () => cert,
      policyFor,
      settings: options.injection,
      onInjected: () => injections.inc(),
      onError: (err) => log.error({ err }, 'injection failed'),
    },
    options.webhook.host,
    options.webhook.port,
  );
  const webhookUrl =
    options.webhook.url ?? (options.webhook.service ? undefined : `https://127.0.0.1:${webhook.port}`);

  /** Registers (or updates) the webhook with the current CA bundle; the leader's job. */
  const registerWebhook = () =>
    register(admission, {
      name: 'riskgate-injector',
      caPem: cert.caPem,
      ...(webhookUrl
        ? { url: webhookUrl }
        : {
            service: {
              namespace: options.namespace,
              name: options.webhook.service!.name,
              port: options.webhook.service!.port,
            },
          }),
      operatorNamespace: options.namespace,
      failurePolicy: options.failurePolicy,
    });

  const event = async (
    obj: { metadata: { name: string; namespace: string; uid?: string } },
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ) => {
    const now = new Date();
    try {
      await core.createNamespacedEvent({
        namespace: obj.metadata.namespace,
        body: {
          metadata: { generateName: `${obj.metadata.name}.`, namespace: obj.metadata.namespace },
          involvedObject: {
            apiVersion: API_VERSION,
            kind: KIND,
            name: obj.metadata.name,
            namespace: obj.metadata.namespace,
            ...(obj.metadata.uid ? { uid: obj.metadata.uid } : {}),
          },
          reason,
          message: message.slice(0, 1024),
          type,
          source: { component: 'riskgate-operator' },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'could not record event');
    }
  };

  /** Enforcers report the config hash they run to Redis; the operator counts the fresh ones. */
  const upToDate = async (namespace: string, policy: string, hash: string, pods: readonly string[]) => {
    if (!redis || redis.status !== 'ready' || pods.length === 0) return 0;
    const reports = await redis
      .hgetall(`rg:{${namespace}/${policy}}:enforcers`)
      .catch(() => ({}) as Record<string, string>);
    const now = Date.now();
    return pods.filter((pod) => {
      const [h, at] = (reports[pod] ?? '').split(' ');
      return h === hash && now - Number(at) < REPORT_FRESH_MS;
    }).length;
  };

  // The leader fetches URL feeds once for the cluster, when there is a Redis to share them in.
  let feedMirror: FeedMirror | undefined;
  let abort: AbortController | undefined;
  let running: Promise<void> | undefined;
  const elector = new LeaseElector({
    api: coordination,
    namespace: options.namespace,
    name: 'riskgate-operator',
    identity,
    ...(options.leaseDurationMs
      ? {
          leaseDurationMs: options.leaseDurationMs,
          renewDeadlineMs: Math.round(options.leaseDurationMs * 0.66),
        }
      : {}),
    ...(options.retryPeriodMs ? { retryPeriodMs: options.retryPeriodMs } : {}),
    onStartedLeading: () => {
      leaderGauge.set(1);
      log.info({ identity }, 'leading');
      abort = new AbortController();
      feedMirror = redis ? new FeedMirror(redis) : undefined;
      controller = new RiskPolicyController(
        {
          kubeconfig: kc,
          core,
          networking,
          custom,
          upToDate,
          event,
          syncFeeds: (namespace, policy, spec) => feedMirror?.sync(namespace, policy, spec),
          publish: async (namespace, policy, text) => {
            if (redis?.status !== 'ready') return;
            await redis.publish(configChannel(namespace, policy), text).catch(() => 0);
          },
          ...(options.resyncMs ? { resyncMs: options.resyncMs } : {}),
          onReconcile: (result, seconds, err) => {
            reconciles.inc({ result });
            durations.observe(seconds);
            if (err) log.warn({ err: (err as Error).message }, 'reconcile failed; retrying with backoff');
          },
        },
        policies,
      );
      running = Promise.all([
        registerWebhook().catch((err) =>
          log.error({ err: (err as Error).message }, 'webhook registration failed'),
        ),
        controller.run(abort.signal),
      ]).then(() => undefined);
    },
    onStoppedLeading: () => {
      leaderGauge.set(0);
      log.warn({ identity }, 'lost the lease; reconciling stops');
      abort?.abort();
      feedMirror?.stop();
      feedMirror = undefined;
      controller = undefined;
    },
    onError: (err) => log.warn({ err: (err as Error).message }, 'leader election'),
  });
  elector.start();

  const admin = Fastify({ logger: false });
  admin.get('/healthz', async () => ({ ok: true }));
  admin.get('/readyz', async () => ({ ready: true, leader: elector.isLeader }));
  admin.get('/metrics', async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
  new Gauge({
    name: 'riskgate_operator_queue_depth',
    help: 'Keys waiting in the work queue.',
    registers: [registry],
    collect() {
      this.set(controller?.queue.length ?? 0);
    },
  });
  new Gauge({
    name: 'riskgate_operator_enforcers',
    help: 'Pods each RiskPolicy selects, and enforcers running its current config (from status).',
    labelNames: ['namespace', 'policy', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of policies.list()) {
        const e = (p.status as { enforcers?: { selected?: number; upToDate?: number } } | undefined)
          ?.enforcers;
        if (!e) continue;
        const labels = { namespace: p.metadata.namespace, policy: p.metadata.name };
        this.set({ ...labels, state: 'selected' }, e.selected ?? 0);
        this.set({ ...labels, state: 'up_to_date' }, e.upToDate ?? 0);
      }
    },
  });
  await admin.listen(options.admin);
  const address = admin.server.address() as { port: number };

  // Renew the serving certificate long before it expires (checked daily).
  // cert-manager rotates its certificate by swapping the mounted files: follow them.
  let certStamp = options.webhook.certDir ? certificateDirStamp(options.webhook.certDir) : '';
  const follow = options.webhook.certDir
    ? setInterval(async () => {
        const stamp = certificateDirStamp(options.webhook.certDir!);
        if (stamp === certStamp) return;
        try {
          cert = readCertificateDir(options.webhook.certDir!);
          certStamp = stamp;
          webhook.reloadCertificate();
          if (elector.isLeader) await registerWebhook();
        } catch (err) {
          log.error(
            { err: (err as Error).message },
            'webhook certificate unreadable; keeping the current one',
          );
        }
      }, 30_000)
    : undefined;
  follow?.unref();
  // (In a cluster the shared Secret is the certificate: see docs/operator.md for its rotation.)
  const renew = setInterval(async () => {
    if (options.webhook.service || options.webhook.certDir || !needsRenewal(cert)) return;
    cert = await generateServingCertificate(certNames, ['127.0.0.1']);
    webhook.reloadCertificate();
    if (elector.isLeader && controller) {
      await registerWebhook();
    }
  }, 86_400_000);
  renew.unref();

  return {
    adminUrl: `http://${options.admin.host}:${address.port}`,
    webhookPort: webhook.port,
    isLeader: () => elector.isLeader,
    async stop() {
      clearInterval(renew);
      if (follow) clearInterval(follow);
      await elector.stop();
      abort?.abort();
      await running;
      await policies.stop();
      await webhook.close();
      await admin.close();
      redis?.disconnect();
    },
  };
}
