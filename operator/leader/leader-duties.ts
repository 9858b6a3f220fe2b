/**
 * What the elected leader does, for as long as it leads: reconcile RiskPolicies, mirror URL feeds
 * into Redis for the cluster, keep the injection webhook registered. Begun when a lease is won,
 * ended when it is lost; every replica serves the webhook either way.
 */
import type { CoreV1Api, CustomObjectsApi, KubeConfig, NetworkingV1Api } from '@kubernetes/client-node';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type ConfigSigner, configChannel } from '../../contract/config-message.ts';
import { policyScope } from '../../contract/redis-keys.ts';
import { type policyInformer, RiskPolicyController } from '../controllers/riskpolicy/controller.ts';
import { FeedMirror } from '../feeds/feed-mirror.ts';
import { apiErrorText } from '../kube/api-error.ts';
import { eventRecorder } from '../kube/events.ts';
import type { OperatorMetrics } from '../metrics.ts';
import type { RedisAuthCopies } from '../redis-auth/redis-auth.ts';
import { enforcerReports } from '../status/enforcer-reports.ts';
import type { Webhook } from '../webhook/webhook.ts';

type Informer = ReturnType<typeof policyInformer>;

export interface LeaderDutiesDeps {
  kc: KubeConfig;
  apis: { core: CoreV1Api; networking: NetworkingV1Api; custom: CustomObjectsApi };
  policies: Informer;
  webhook: Webhook;
  redis: Redis | undefined;
  metrics: OperatorMetrics;
  log: Logger;
  resyncMs: number | undefined;
  /** The key pushed configs are signed with; loaded before leading begins. */
  signer: () => ConfigSigner;
  redisAuth: () => RedisAuthCopies | undefined;
  watchError: (resource: string, err: unknown) => void;
}

export class LeaderDuties {
  private readonly deps: LeaderDutiesDeps;
  private abort: AbortController | undefined;
  private running: Promise<void> | undefined;
  private mirror: FeedMirror | undefined;
  controller: RiskPolicyController | undefined;

  constructor(deps: LeaderDutiesDeps) {
    this.deps = deps;
  }

  begin(): void {
    const { kc, apis, policies, webhook, redis, metrics, log, resyncMs } = this.deps;
    this.abort = new AbortController();
    // The leader fetches URL feeds once for the cluster, when there is a Redis to share them in.
    const mirror = redis
      ? new FeedMirror(redis, (namespace, policy) => this.controller?.queue.add(`${namespace}/${policy}`))
      : undefined;
    this.mirror = mirror;
    const signer = this.deps.signer();
    this.controller = new RiskPolicyController(
      {
        kubeconfig: kc,
        ...apis,
        upToDate: enforcerReports(redis),
        event: eventRecorder(apis.core, log),
        syncFeeds: (namespace, policy, spec) => mirror?.sync(namespace, policy, spec),
        feedStatus: (namespace, policy) => mirror?.statusOf(namespace, policy),
        observe: (namespace, policy, census) => metrics.observe(namespace, policy, census),
        signerPublicKeyPem: signer.publicKeyPem,
        ...(this.deps.redisAuth() ? { redisAuth: this.deps.redisAuth()! } : {}),
        publish: async (namespace, policy, config, issuedAt) => {
          if (redis?.status !== 'ready') return;
          const scope = policyScope(namespace, policy);
          await redis
            .publish(configChannel(scope), signer.encode({ scope, issuedAt, config }))
            .catch(() => 0);
        },
        ...(resyncMs ? { resyncMs } : {}),
        onWatchError: this.deps.watchError,
        onReconcile: (key, result, seconds, err) => {
          metrics.reconciles.inc({ result });
          metrics.reconcileSeconds.observe(seconds);
          if (err)
            log.warn({ policy: key, err: apiErrorText(err) }, 'reconcile failed; retrying with backoff');
          else log.debug({ policy: key, seconds }, 'reconciled');
        },
      },
      policies,
    );
    this.running = Promise.all([
      webhook
        .register()
        .then(() => log.info({ webhook: 'riskgate-injector' }, 'webhook registered'))
        .catch((err) =>
          log.error({ webhook: 'riskgate-injector', err: apiErrorText(err) }, 'webhook registration failed'),
        ),
      this.controller.run(this.abort.signal),
    ]).then(
      () => undefined,
      // An unhandled rejection would end the process, and with it the webhook every replica serves.
      (err) => log.error({ err: apiErrorText(err) }, 'controller stopped'),
    );
  }

  async end(): Promise<void> {
    this.abort?.abort();
    this.deps.webhook.stopRegistering();
    this.mirror?.stop();
    this.mirror = undefined;
    this.controller = undefined;
    await this.running;
  }
}
