/**
 * Starts an enforcer as a few components — the app's connection pool, the decision log, the
 * shared state (with Redis), the policy, the config channel, the traffic and admin listeners —
 * started in that order and stopped in reverse. Used by `riskgate enforce`, the tests and the
 * benchmark alike.
 */

import type { UpstreamProtocol } from '../contract/sidecar.ts';
import { type Component, startAll } from '../lib/components.ts';
import { ProofOfWork } from './actions/proof-of-work.ts';
import { createAdminServer } from './admin/admin-server.ts';
import { LoginAttemptReader } from './context/login-attempt.ts';
import { BodyBudget } from './context/read-body.ts';
import { createLogger, DecisionLog } from './observability/decision-log.ts';
import { EnforcerMetrics } from './observability/metrics.ts';
import { PolicyHolder } from './policy/policy-holder.ts';
import { Http2Upstream } from './proxy/http2-upstream.ts';
import { type Forwarder, Upstream } from './proxy/upstream.ts';
import { WebSocketTunnel } from './proxy/websocket-tunnel.ts';
import { MemoryStateStore } from './state/memory-store.ts';
import type { Pod, SharedState } from './state/shared-state.ts';
import type { StateStore } from './state/state-store.ts';
import { createTrafficServer } from './traffic-server.ts';

export interface HostPort {
  host: string;
  port: number;
}

export interface EnforcerOptions {
  policyPath: string;
  upstream: string;
  /** What the app speaks on its port: HTTP/1.1 (default) or HTTP/2 cleartext (gRPC, h2c). */
  upstreamProtocol?: UpstreamProtocol;
  /** A WebSocket tunnel quiet both ways this long is closed. Default 10 minutes. */
  webSocketIdleTimeoutMs?: number;
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
  /** The pod this enforcer runs in (set by the injector's environment): enables the config channel. */
  pod?: Pod;
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

/** The policy, loaded before anything listens: an enforcer without a valid policy does not start. */
function policyComponent(holder: PolicyHolder, watchIntervalMs: number): Component {
  return {
    name: 'policy',
    async start() {
      const first = await holder.reload();
      if (!first.ok) throw new EnforcerStartError(first.error ?? 'policy invalid');
      holder.watch(watchIntervalMs);
    },
    stop: () => holder.stop(),
  };
}

/** A server that listens and closes: the traffic port, or the admin port's fastify. */
interface Listener {
  listen(at: { host: string; port: number }): Promise<unknown>;
  close(): Promise<unknown>;
}

function listener(name: string, server: Listener, at: HostPort): Component {
  return {
    name,
    start: async () => {
      await server.listen({ host: at.host, port: at.port });
    },
    stop: async () => {
      await server.close();
    },
  };
}

export async function startEnforcer(options: EnforcerOptions): Promise<RunningEnforcer> {
  const logger = createLogger(options.logLevel);
  const metrics = new EnforcerMetrics();
  const local = new MemoryStateStore();
  // Redis is loaded only when used: a standalone enforcer does not carry its client in memory.
  let shared: SharedState | undefined;
  if (options.redisUrl) {
    const { SharedState } = await import('./state/shared-state.ts');
    let lastLogged = 0;
    shared = new SharedState({
      url: options.redisUrl,
      local,
      pod: options.pod,
      policyPath: options.policyPath,
      onPushed: (result) => {
        metrics.configPushes.inc({ result });
        if (result !== 'applied') logger.warn({ result }, 'pushed config refused; the mounted config stays');
      },
      ...(options.redisTimeoutMs ? { commandTimeoutMs: options.redisTimeoutMs } : {}),
      onError: (err) => {
        // Once a minute at most: an outage must not flood the log.
        if (Date.now() - lastLogged > 60_000) {
          lastLogged = Date.now();
          logger.warn({ error: err.message }, 'redis unavailable; deciding from local state');
        }
      },
    });
    metrics.trackRedis(shared.store);
  }
  // In a pod with Redis, URL feeds come from the operator's shared copy (fetched once per cluster).
  const sharedFeeds = shared?.sharedFeeds();
  const holder = new PolicyHolder(options.policyPath, options.secretsDir, sharedFeeds ? { sharedFeeds } : {});
  holder.on('reload', (result) => {
    metrics.reloads.inc({ result: result.ok ? 'applied' : 'rejected' });
    if (result.ok && holder.current) {
      metrics.trackPolicy(holder.current);
      logger.info({ policy: holder.current.name, hash: result.hash }, 'policy applied');
      if (holder.current.problems.length > 0) {
        logger.warn({ problems: holder.current.problems }, 'policy runs degraded');
      }
    } else {
      logger.error({ error: result.error }, 'policy rejected; the last good policy keeps running');
    }
  });
  shared?.follow(holder);
  const state: StateStore = shared?.store ?? local;

  const upstreamOptions = {
    url: options.upstream,
    ...(options.upstreamHeadersTimeoutMs ? { headersTimeoutMs: options.upstreamHeadersTimeoutMs } : {}),
  };
  const upstream: Forwarder =
    options.upstreamProtocol === 'h2c' ? new Http2Upstream(upstreamOptions) : new Upstream(upstreamOptions);
  const tunnel = new WebSocketTunnel({
    url: options.upstream,
    metrics,
    ...(options.webSocketIdleTimeoutMs ? { idleTimeoutMs: options.webSocketIdleTimeoutMs } : {}),
  });
  const log = new DecisionLog(logger, options.logAllowSample ?? 1);
  const traffic = createTrafficServer(
    {
      policy: () => holder.current,
      upstream,
      tunnel,
      state,
      metrics,
      log,
      pow: new ProofOfWork(options.powKey),
      logins: new LoginAttemptReader(),
      bodies: new BodyBudget(),
      clock: options.clock ?? Date.now,
    },
    {
      ...(options.maxConnections ? { maxConnections: options.maxConnections } : {}),
      ...(options.headersTimeoutMs ? { headersTimeoutMs: options.headersTimeoutMs } : {}),
      ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    },
  );
  const admin = createAdminServer(holder, metrics);

  const started = await startAll([
    { name: 'upstream', start: () => {}, stop: () => upstream.close() },
    { name: 'decision-log', start: () => {}, stop: () => log.flush() },
    ...(shared ? [shared] : []),
    policyComponent(holder, options.watchIntervalMs ?? 1000),
    ...(shared ? [{ name: 'config-channel', start: () => shared.subscribe(), stop: () => {} }] : []),
    listener('traffic', traffic, options.listen),
    listener('admin', admin, options.admin),
  ]);

  return {
    trafficUrl: urlOf(traffic.server.address()),
    adminUrl: urlOf(admin.server.address()),
    holder,
    metrics,
    close: () => started.stop(),
  };
}
