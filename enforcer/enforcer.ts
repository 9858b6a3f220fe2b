/**
 * Starts an enforcer: loads and watches the policy, then opens the traffic and admin listeners.
 * Used by `riskgate enforce`, the tests and the benchmark alike.
 */

import type { Redis } from 'ioredis';
import { ProofOfWork } from './actions/proof-of-work.ts';
import { createAdminServer } from './admin/admin-server.ts';
import { LoginAttemptReader } from './context/login-attempt.ts';
import { createLogger, DecisionLog } from './observability/decision-log.ts';
import { EnforcerMetrics } from './observability/metrics.ts';
import { PolicyHolder } from './policy/policy-holder.ts';
import { Upstream } from './proxy/upstream.ts';
import { MemoryStateStore } from './state/memory-store.ts';
import type { StateStore } from './state/state-store.ts';
import { createTrafficServer } from './traffic-server.ts';

export interface HostPort {
  host: string;
  port: number;
}

export interface EnforcerOptions {
  policyPath: string;
  upstream: string;
  listen: HostPort;
  admin: HostPort;
  secretsDir?: string;
  /** Fraction of allow decisions logged (every other decision is). */
  logAllowSample?: number;
  /** Shared proof-of-work key (all enforcers of a service must share it). */
  powKey?: Buffer;
  watchIntervalMs?: number;
  upstreamHeadersTimeoutMs?: number;
  maxConnections?: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  logLevel?: string;
  /** Shared state; without it state is local to this process. */
  redisUrl?: string;
  /** How long a request may wait for Redis before local state decides (ms). */
  redisTimeoutMs?: number;
  /**
   * The enforcer's sense of time (epoch ms). Only the evaluation harness replaces it, to play
   * days of traffic in a minute; never exposed on the command line.
   */
  clock?: () => number;
}

export interface RunningEnforcer {
  trafficUrl: string;
  adminUrl: string;
  holder: PolicyHolder;
  metrics: EnforcerMetrics;
  close(): Promise<void>;
}

export class EnforcerStartError extends Error {
  readonly code = 'RG_ERR_POLICY_INVALID';
}

function urlOf(address: string | { address: string; port: number } | null): string {
  if (address === null || typeof address === 'string') return String(address);
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

export async function startEnforcer(options: EnforcerOptions): Promise<RunningEnforcer> {
  const logger = createLogger(options.logLevel);
  const metrics = new EnforcerMetrics();
  // In a pod with Redis, URL feeds come from the operator's shared copy (fetched once per cluster).
  // Redis is loaded only when used: a standalone enforcer does not carry its client in memory.
  const redisModules = options.redisUrl
    ? await Promise.all([
        import('ioredis'),
        import('./feeds/shared-feeds.ts'),
        import('./policy/config-channel.ts'),
        import('./state/redis-store.ts'),
      ])
    : undefined;
  let feedClient: Redis | undefined;
  if (redisModules && options.redisUrl && process.env['POD_NAMESPACE']) {
    feedClient = new redisModules[0].Redis(options.redisUrl, {
      maxRetriesPerRequest: 1,
      commandTimeout: 2000,
      retryStrategy: (n) => Math.min(100 * n, 2000),
    });
    feedClient.on('error', () => {});
  }
  const holder = new PolicyHolder(
    options.policyPath,
    options.secretsDir,
    feedClient && redisModules ? { sharedFeeds: redisModules[1].redisSharedFeeds(feedClient) } : {},
  );
  holder.on('reload', (result) => {
    metrics.reloads.inc({ result: result.ok ? 'applied' : 'rejected' });
    if (result.ok && holder.current) {
      metrics.trackPolicy(holder.current);
      logger.info({ policy: holder.current.name, hash: result.hash }, 'policy applied');
    } else {
      logger.error({ error: result.error }, 'policy rejected; the last good policy keeps running');
    }
  });
  const first = await holder.reload();
  if (!first.ok) {
    feedClient?.disconnect();
    throw new EnforcerStartError(first.error ?? 'policy invalid');
  }
  holder.watch(options.watchIntervalMs ?? 1000);

  const upstream = new Upstream({
    url: options.upstream,
    ...(options.upstreamHeadersTimeoutMs ? { headersTimeoutMs: options.upstreamHeadersTimeoutMs } : {}),
  });
  const log = new DecisionLog(logger, options.logAllowSample ?? 1);
  const local = new MemoryStateStore();
  let unsubscribe: (() => void) | undefined;
  const scopeOf = () => `${holder.current?.namespace ?? 'default'}/${holder.current?.name ?? 'policy'}`;
  let state: StateStore = local;
  if (options.redisUrl && redisModules) {
    const { configChannel, subscribeToConfig } = redisModules[2];
    let lastLogged = 0;
    const redis = new redisModules[3].RedisStateStore({
      url: options.redisUrl,
      scope: scopeOf(),
      local,
      ...(options.redisTimeoutMs ? { commandTimeoutMs: options.redisTimeoutMs } : {}),
      onError: (err) => {
        // Once a minute at most: an outage must not flood the log.
        if (Date.now() - lastLogged > 60_000) {
          lastLogged = Date.now();
          logger.warn({ error: err.message }, 'redis unavailable; deciding from local state');
        }
      },
    });
    holder.on('reload', (result) => {
      if (result.ok) redis.setScope(scopeOf());
    });
    metrics.trackRedis(redis);
    state = redis;
    // In a pod: take pushed configs at once, and report the running config so the operator
    // can count enforcers up to date.
    if (process.env['POD_NAMESPACE'] && holder.current) {
      const channel = configChannel(
        holder.current.namespace ?? process.env['POD_NAMESPACE'],
        holder.current.name,
      );
      unsubscribe = subscribeToConfig(options.redisUrl, channel, (text) => {
        void holder.applyText(text);
      });
    }
    const pod = process.env['POD_NAME'];
    if (pod) {
      const report = () => {
        if (holder.current) redis.reportConfig(pod, holder.current.hash);
      };
      setTimeout(report, 1000).unref();
      setInterval(report, 10_000).unref();
      holder.on('reload', report);
    }
  }
  const traffic = createTrafficServer(
    {
      policy: () => holder.current,
      upstream,
      state,
      metrics,
      log,
      pow: new ProofOfWork(options.powKey),
      logins: new LoginAttemptReader(),
      clock: options.clock ?? Date.now,
    },
    {
      ...(options.maxConnections ? { maxConnections: options.maxConnections } : {}),
      ...(options.headersTimeoutMs ? { headersTimeoutMs: options.headersTimeoutMs } : {}),
      ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    },
  );
  const admin = createAdminServer(holder, metrics);
  await traffic.listen({ host: options.listen.host, port: options.listen.port });
  await admin.listen({ host: options.admin.host, port: options.admin.port });

  return {
    trafficUrl: urlOf(traffic.server.address()),
    adminUrl: urlOf(admin.server.address()),
    holder,
    metrics,
    async close() {
      holder.stop();
      await Promise.all([traffic.close(), admin.close()]);
      await upstream.close();
      unsubscribe?.();
      feedClient?.disconnect();
      await state.close();
      log.flush();
    },
  };
}
