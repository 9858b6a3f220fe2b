/**
 * `riskgate operator` as components, started in order and stopped in reverse: the admin listener
 * with /metrics, /healthz, /readyz (first, so a replica waiting on the apiserver is alive and says
 * why it is not ready), the Redis client (optional), the RiskPolicy informer (every replica: the
 * webhook needs it), the injection webhook (every replica), the config-signing key, and leader
 * election — whose leader runs the controller, mirrors feeds and keeps the webhook registered
 * (leader/leader-duties.ts).
 */
import { hostname } from 'node:os';
import {
  AdmissionregistrationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  NetworkingV1Api,
  type V1OwnerReference,
} from '@kubernetes/client-node';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import pRetry from 'p-retry';
import pino from 'pino';
import { ConfigSigner, generateSignerKey } from '../contract/config-message.ts';
import { type Component, startAll } from '../lib/components.ts';
import { policyInformer } from './controllers/riskpolicy/controller.ts';
import { injectedPolicyOf, validateForCluster } from './controllers/riskpolicy/desired-state.ts';
import { policiesSelecting } from './controllers/riskpolicy/ownership.ts';
import { apiErrorText } from './kube/api-error.ts';
import { loadOrCreateSecret } from './kube/owned-secret.ts';
import { deploymentOwner } from './kube/owner.ts';
import { LeaderDuties } from './leader/leader-duties.ts';
import { LeaseElector } from './leader/lease-elector.ts';
import { OperatorMetrics } from './metrics.ts';
import { RedisAuthCopies, type RedisPasswordSource, readRedisPassword } from './redis-auth/redis-auth.ts';
import type { InjectionSettings } from './webhook/inject.ts';
import { Webhook, type WebhookOptions } from './webhook/webhook.ts';

export interface OperatorOptions {
  kubeconfig?: string;
  namespace: string;
  identity?: string;
  admin: { host: string; port: number };
  webhook: Omit<WebhookOptions, 'failurePolicy' | 'operatorNamespace'>;
  failurePolicy: 'Ignore' | 'Fail';
  injection: InjectionSettings;
  redisUrl?: string;
  /** Where the Redis password is (none: Redis without a password). */
  redisPassword?: RedisPasswordSource;
  /** The operator's own Deployment, which then owns its Secrets and Lease (kube/owner.ts). */
  ownerDeployment?: string;
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

/** The Secret, in the operator's namespace, holding the key pushed configs are signed with. */
export const CONFIG_SIGNER_SECRET = 'riskgate-config-signer';
const SIGNER_SECRET_KEY = 'ed25519.pem';

export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const log = pino({ base: { component: 'operator' }, level: process.env['RISKGATE_LOG_LEVEL'] ?? 'info' });
  const kc = new KubeConfig();
  if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
  else kc.loadFromCluster();
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const networking = kc.makeApiClient(NetworkingV1Api);
  const identity = options.identity ?? `${hostname()}-${process.pid}`;

  let owner: V1OwnerReference | undefined;
  if (options.ownerDeployment) {
    try {
      owner = await deploymentOwner(kc, options.namespace, options.ownerDeployment);
    } catch (err) {
      log.warn(
        { deployment: options.ownerDeployment, err: apiErrorText(err) },
        'own Deployment not found; what the operator creates will outlive it',
      );
    }
  }

  // Connected once its password is read (the 'redis' component).
  const redis = options.redisUrl
    ? new Redis(options.redisUrl, {
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: 1000,
      })
    : undefined;
  redis?.on('error', () => {});
  let redisAuth: RedisAuthCopies | undefined;

  let duties: LeaderDuties | undefined;
  const watchError = (resource: string, err: unknown) => {
    metrics.watchErrors.inc({ resource });
    log.warn({ resource, err: apiErrorText(err) }, 'list or watch failed; retrying with backoff');
  };
  const policies = policyInformer(
    kc,
    custom,
    (o) => duties?.controller?.enqueue(o),
    (err) => watchError('riskpolicies', err),
  );
  const metrics = new OperatorMetrics(
    () => duties?.controller?.queue.length ?? 0,
    () =>
      policies.list().flatMap((p) => {
        const e = (p.status as { enforcers?: { selected?: number; upToDate?: number } } | undefined)
          ?.enforcers;
        return e
          ? [
              {
                namespace: p.metadata.namespace,
                policy: p.metadata.name,
                selected: e.selected ?? 0,
                upToDate: e.upToDate ?? 0,
              },
            ]
          : [];
      }),
  );
  // Several policies may select a pod: the oldest enforces (ownership.ts); the controller reports
  // the others as in conflict.
  const policyFor = (namespace: string, labels: Record<string, string>) => {
    const [owner] = policiesSelecting(policies.list(namespace), labels);
    const v = owner ? validateForCluster(owner) : undefined;
    return v?.ok ? injectedPolicyOf(v.policy) : undefined;
  };
  const webhook = new Webhook(
    { ...options.webhook, failurePolicy: options.failurePolicy, operatorNamespace: options.namespace, owner },
    { core, admission: kc.makeApiClient(AdmissionregistrationV1Api) },
    {
      policyFor,
      settings: {
        ...options.injection,
        ...(options.injection.redis
          ? { redis: { ...options.injection.redis, authenticated: options.redisPassword !== undefined } }
          : {}),
      },
      onInjected: (namespace, policy, pod, warnings) => {
        metrics.injections.inc();
        log.info({ namespace, pod, policy, warnings }, 'enforcer injected');
      },
      onSkipped: (namespace, policy, pod, reason, why) => {
        metrics.skipped.inc({ reason });
        log.warn({ namespace, pod, policy, why }, 'pod admitted without an enforcer');
      },
      onError: (err) => log.error({ err: apiErrorText(err) }, 'injection failed'),
    },
    log,
  );
  // A replica may start before the apiserver answers, before its RBAC or CRD is in place (a helm
  // install applies them together) or while its Secrets are being created: each start step is
  // retried until it succeeds, with /readyz naming the step it waits for, rather than the
  // process exiting into a crash loop whose back-off keeps growing.
  let waitingFor: string | undefined = 'start';
  const untilDone = <T>(step: string, fn: () => Promise<T>): Promise<T> => {
    waitingFor = step;
    return pRetry(fn, {
      retries: Number.POSITIVE_INFINITY,
      minTimeout: 500,
      maxTimeout: 10_000,
      onFailedAttempt: ({ error, attemptNumber, retryDelay }) => {
        metrics.startRetries.inc({ step });
        log.warn(
          { step, attempt: attemptNumber, retryInMs: retryDelay, err: apiErrorText(error) },
          'start step failed; retrying',
        );
      },
    });
  };
  // Every replica loads the same signing key (kube/owned-secret.ts); only the leader signs.
  let signer: ConfigSigner | undefined;
  const signerKey: Component = {
    name: 'config-signer',
    start: async () => {
      const data = await untilDone('config-signer', () =>
        loadOrCreateSecret(
          core,
          { namespace: options.namespace, name: CONFIG_SIGNER_SECRET, owner },
          (d) => Boolean(d[SIGNER_SECRET_KEY]),
          () => ({ [SIGNER_SECRET_KEY]: generateSignerKey() }),
        ),
      );
      signer = new ConfigSigner(data[SIGNER_SECRET_KEY]!);
    },
    stop: () => {},
  };
  duties = new LeaderDuties({
    kc,
    apis: { core, networking, custom },
    policies,
    webhook,
    redis,
    metrics,
    log,
    resyncMs: options.resyncMs,
    signer: () => signer!,
    redisAuth: () => redisAuth,
    watchError,
  });
  const leaderDuties = duties;
  let stopping = false;
  const elector = new LeaseElector({
    api: kc.makeApiClient(CoordinationV1Api),
    namespace: options.namespace,
    name: 'riskgate-operator',
    identity,
    owner,
    ...(options.leaseDurationMs
      ? {
          leaseDurationMs: options.leaseDurationMs,
          renewDeadlineMs: Math.round(options.leaseDurationMs * 0.66),
        }
      : {}),
    ...(options.retryPeriodMs ? { retryPeriodMs: options.retryPeriodMs } : {}),
    onStartedLeading: () => {
      metrics.leader.set(1);
      log.info({ identity }, 'leading');
      leaderDuties.begin();
    },
    onStoppedLeading: () => {
      metrics.leader.set(0);
      // Stopping releases the lease on purpose: that is news only when it was not asked for.
      if (stopping) log.info({ identity }, 'released the lease');
      else log.warn({ identity }, 'lost the lease; reconciling stops');
      void leaderDuties.end();
    },
    onError: (err) => log.warn({ err: apiErrorText(err) }, 'leader election'),
  });

  // The admin listener starts first: /healthz answers (the liveness probe must not kill a replica
  // that is waiting on the apiserver) and /readyz says what it waits for.
  const admin = Fastify({ logger: false });
  admin.get('/healthz', async () => ({ ok: true }));
  admin.get('/readyz', async (_req, reply) =>
    waitingFor === undefined
      ? { ready: true, leader: elector.isLeader }
      : reply.code(503).send({ ready: false, leader: false, waitingFor }),
  );
  admin.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  const components: Component[] = [
    {
      name: 'admin',
      start: async () => {
        await admin.listen(options.admin);
      },
      stop: () => admin.close(),
    },
    ...(redis
      ? [
          {
            name: 'redis',
            start: async () => {
              if (options.redisPassword) {
                const source = options.redisPassword;
                const password = await untilDone('redis-password', () =>
                  readRedisPassword(core, options.namespace, source, owner),
                );
                redis.options.password = password;
                redisAuth = new RedisAuthCopies(core, password);
              }
              // Not awaited: Redis may come up after the operator, which works without it meanwhile.
              redis.connect().catch(() => {});
            },
            stop: () => redis.disconnect(),
          },
        ]
      : []),
    {
      name: 'policy-informer',
      start: async () => {
        // The webhook answers from this cache: it must have listed before the replica is ready.
        waitingFor = 'riskpolicies';
        await policies.start();
        await policies.synced;
      },
      stop: () => policies.stop(),
    },
    {
      name: webhook.name,
      start: () => untilDone('webhook', () => webhook.start()),
      stop: () => webhook.stop(),
    },
    signerKey,
    {
      name: 'leader-election',
      start: () => {
        elector.start();
        waitingFor = undefined;
      },
      stop: async () => {
        stopping = true;
        await elector.stop();
        await leaderDuties.end();
      },
    },
  ];
  const started = await startAll(components, {
    // Six components within a pod's default 30 s grace period.
    stopTimeoutMs: 4000,
    onStopTimeout: (name) => log.warn({ component: name }, 'did not stop in time; stopping the rest'),
  });
  const address = admin.server.address() as { port: number };
  return {
    adminUrl: `http://${options.admin.host}:${address.port}`,
    webhookPort: webhook.port,
    isLeader: () => elector.isLeader,
    stop: () => started.stop(),
  };
}
