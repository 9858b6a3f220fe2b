/**
 * The enforcer's Prometheus metrics (prefix riskgate_), on its own registry so tests and
 * several enforcers in one process never collide.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CompiledPolicy, CompiledRoute } from '../policy/compiled-policy.ts';
import { signalOfReason } from '../reasons.ts';
import type { RedisStateStore } from '../state/redis-store.ts';
import { backgroundThreads } from '../threads/background-worker.ts';
import { collectProcessMetrics } from './process-metrics.ts';
import {
  type CounterChild,
  type HistogramChild,
  RequestCounter,
  RequestHistogram,
} from './request-metrics.ts';

/** The metrics one route's requests touch, resolved once per compiled route. */
interface RouteChildren {
  decisions: Record<string, CounterChild>;
  score: HistogramChild;
}

export class EnforcerMetrics {
  readonly registry = new Registry();
  readonly decisions: RequestCounter;
  readonly rules: RequestCounter;
  readonly score: RequestHistogram;
  readonly decisionSeconds: RequestHistogram;
  readonly upstreamSeconds: RequestHistogram;
  readonly signalHits: RequestCounter;
  readonly challengesPassed: RequestCounter;
  readonly feedEntries: Gauge<'feed'>;
  readonly feedAgeSeconds: Gauge<'feed'>;
  readonly feedStale: Gauge<'feed'>;
  readonly configInfo: Gauge<'policy' | 'hash' | 'source'>;
  readonly reloads: Counter<'result'>;
  readonly configPushes: Counter<'result'>;
  readonly webSocketUpgrades: Counter<'result'>;
  readonly webSocketsOpen: Gauge;
  readonly webSocketSeconds: Histogram;
  readonly http2Sessions: Gauge;
  readonly http2SessionsClosed: Counter<'reason'>;
  readonly protocolRequests: Counter<'protocol'>;
  private feedsOf: () => CompiledPolicy['feeds'] = () => [];
  private readonly decisionTime: HistogramChild;
  private readonly byRoute = new WeakMap<CompiledRoute, RouteChildren>();
  private readonly bySignal = new Map<string, CounterChild>();
  private readonly byUpstreamStatus = new Map<number, HistogramChild>();

  constructor(defaultMetrics = true) {
    const registers = [this.registry];
    if (defaultMetrics) collectProcessMetrics(this.registry, 'riskgate_');
    const register = <M extends { name: string }>(metric: M): M => {
      this.registry.registerMetric(metric as never);
      return metric;
    };
    this.decisions = register(
      new RequestCounter({
        name: 'riskgate_decisions_total',
        help: 'Decisions by policy, route and decision (in monitor mode: the decision that would have applied).',
        labelNames: ['policy', 'route', 'decision', 'mode'],
      }),
    );
    this.rules = register(
      new RequestCounter({
        name: 'riskgate_rule_rejections_total',
        help: 'Requests refused by a rule (authentication, scopes, malformed input) before scoring.',
        labelNames: ['policy', 'route', 'code'],
      }),
    );
    this.score = register(
      new RequestHistogram({
        name: 'riskgate_score',
        help: 'Risk score of scored requests.',
        labelNames: ['policy'],
        buckets: [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
      }),
    );
    this.decisionSeconds = register(
      new RequestHistogram({
        name: 'riskgate_decision_duration_seconds',
        help: 'Time from arrival to decision, excluding waits for the app.',
        buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.025, 0.1],
      }),
    );
    this.decisionTime = this.decisionSeconds.labels();
    this.upstreamSeconds = register(
      new RequestHistogram({
        name: 'riskgate_upstream_duration_seconds',
        help: 'Time to the app response headers.',
        labelNames: ['status_class'],
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      }),
    );
    this.signalHits = register(
      new RequestCounter({
        name: 'riskgate_signal_hits_total',
        help: 'Contributions to scores by signal and reason code.',
        labelNames: ['signal', 'reason'],
      }),
    );
    this.challengesPassed = register(
      new RequestCounter({
        name: 'riskgate_challenges_passed_total',
        help: 'Challenged requests let through because the client met the challenge.',
        labelNames: ['kind'],
      }),
    );
    const feeds = () => this.feedsOf();
    this.feedEntries = new Gauge({
      name: 'riskgate_feed_entries',
      help: 'CIDRs loaded per threat feed.',
      labelNames: ['feed'],
      registers,
      collect() {
        this.reset();
        for (const f of feeds()) this.set({ feed: f.spec.name }, f.status().entries);
      },
    });
    this.feedAgeSeconds = new Gauge({
      name: 'riskgate_feed_age_seconds',
      help: 'Seconds since each feed last loaded successfully.',
      labelNames: ['feed'],
      registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const f of feeds()) {
          const s = f.status();
          if (s.loaded) this.set({ feed: f.spec.name }, (now - s.loadedAt) / 1000);
        }
      },
    });
    this.feedStale = new Gauge({
      name: 'riskgate_feed_stale',
      help: '1 when a feed failed its last refresh or is older than three intervals.',
      labelNames: ['feed'],
      registers,
      collect() {
        this.reset();
        for (const f of feeds()) this.set({ feed: f.spec.name }, f.status().stale ? 1 : 0);
      },
    });
    this.configInfo = new Gauge({
      name: 'riskgate_config_info',
      help: 'The running policy: always 1, labelled with its name, hash and source.',
      labelNames: ['policy', 'hash', 'source'],
      registers,
    });
    this.reloads = new Counter({
      name: 'riskgate_config_reloads_total',
      help: 'Policy loads by result (applied, rejected).',
      labelNames: ['result'],
      registers,
    });
    this.configPushes = new Counter({
      name: 'riskgate_config_pushes_total',
      help: 'Configs pushed on the config channel, by what became of them: applied, or refused as malformed, no-key, bad-signature, other-policy, not-newer.',
      labelNames: ['result'],
      registers,
    });
    this.webSocketUpgrades = new Counter({
      name: 'riskgate_websocket_upgrades_total',
      help: 'WebSocket upgrade requests by result: tunnelled, refused (answered by the enforcer), upstream_declined (the app did not switch), upstream_failed.',
      labelNames: ['result'],
      registers,
    });
    this.webSocketsOpen = new Gauge({
      name: 'riskgate_websocket_connections',
      help: 'WebSocket tunnels open now.',
      registers,
    });
    this.webSocketSeconds = new Histogram({
      name: 'riskgate_websocket_duration_seconds',
      help: 'How long closed WebSocket tunnels were open.',
      buckets: [1, 10, 60, 300, 1800, 3600, 14400, 86400],
      registers,
    });
    this.http2Sessions = new Gauge({
      name: 'riskgate_http2_sessions',
      help: 'HTTP/2 client sessions (connections) open now.',
      registers,
    });
    this.http2SessionsClosed = new Counter({
      name: 'riskgate_http2_sessions_closed_total',
      help: 'HTTP/2 sessions closed, by reason: client, idle, shutdown, rapid_reset (streams cancelled before their answer, past the limit), protocol_error (a peer that broke the protocol or its limits: floods, oversized headers).',
      labelNames: ['reason'],
      registers,
    });
    this.protocolRequests = new Counter({
      name: 'riskgate_http2_streams_total',
      help: 'Requests that arrived as HTTP/2 streams, by protocol (grpc, http).',
      labelNames: ['protocol'],
      registers,
    });
    new Counter({
      name: 'riskgate_background_threads_total',
      help: 'Worker threads started to parse feeds and policies, by priority: low (yielding the core to requests), normal where the system did not allow lowering it, raised where requests starved a low one and its job started again at normal priority.',
      labelNames: ['priority'],
      registers,
      collect() {
        this.reset();
        this.labels('low').inc(backgroundThreads.lowered);
        this.labels('normal').inc(backgroundThreads.normal);
        this.labels('raised').inc(backgroundThreads.raised);
      },
    });
  }

  countWebSocket(result: 'tunnelled' | 'refused' | 'upstream_declined' | 'upstream_failed'): void {
    this.webSocketUpgrades.labels(result).inc();
  }

  webSocketOpened(): void {
    this.countWebSocket('tunnelled');
    this.webSocketsOpen.inc();
  }

  webSocketClosed(seconds: number): void {
    this.webSocketsOpen.dec();
    this.webSocketSeconds.observe(seconds);
  }

  private route(policy: CompiledPolicy, route: CompiledRoute): RouteChildren {
    let children = this.byRoute.get(route);
    if (children === undefined) {
      const decisions: Record<string, CounterChild> = {};
      for (const d of ['allow', 'challenge', 'restrict', 'deny']) {
        decisions[d] = this.decisions.labels(policy.name, route.name, d, policy.mode);
      }
      children = { decisions, score: this.score.labels(policy.name) };
      this.byRoute.set(route, children);
    }
    return children;
  }

  /** One scored request: its decision, score and the time it took to decide. */
  countDecision(
    policy: CompiledPolicy,
    route: CompiledRoute,
    decision: string,
    score: number,
    seconds: number,
  ) {
    const children = this.route(policy, route);
    children.decisions[decision]!.inc();
    children.score.observe(score);
    this.decisionTime.observe(seconds);
  }

  countRefusal(policy: string, route: string, code: string): void {
    this.rules.labels(policy, route, code).inc();
  }

  countChallengePassed(kind: string): void {
    this.challengesPassed.labels(kind).inc();
  }

  countSignal(reason: string): void {
    let child = this.bySignal.get(reason);
    if (child === undefined) {
      child = this.signalHits.labels(signalOfReason(reason), reason);
      this.bySignal.set(reason, child);
    }
    child.inc();
  }

  /** `status` is the app's status, or 0 when it could not be reached. */
  observeUpstream(status: number, seconds: number): void {
    const statusClass = (status / 100) | 0;
    let child = this.byUpstreamStatus.get(statusClass);
    if (child === undefined) {
      child = this.upstreamSeconds.labels(statusClass === 0 ? 'error' : `${statusClass}xx`);
      this.byUpstreamStatus.set(statusClass, child);
    }
    child.observe(seconds);
  }

  trackRedis(store: RedisStateStore): void {
    new Gauge({
      name: 'riskgate_redis_up',
      help: '1 when the shared-state Redis connection is ready.',
      registers: [this.registry],
      collect() {
        this.set(store.connected ? 1 : 0);
      },
    });
    new Gauge({
      name: 'riskgate_redis_errors',
      help: 'Redis errors, timeouts and reads while Redis was down, since start (local state decided instead).',
      registers: [this.registry],
      collect() {
        this.set(store.errors);
      },
    });
  }

  trackPolicy(policy: CompiledPolicy): void {
    this.configInfo.reset();
    this.configInfo.set({ policy: policy.name, hash: policy.hash, source: policy.source }, 1);
    this.feedsOf = () => policy.feeds;
  }
}
