/**
 * The enforcer's Prometheus metrics (prefix riskgate_), on its own registry so tests and
 * several enforcers in one process never collide.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { CompiledPolicy } from '../policy/compiled-policy.ts';
import type { RedisStateStore } from '../state/redis-store.ts';

export class EnforcerMetrics {
  readonly registry = new Registry();
  readonly decisions: Counter<'policy' | 'route' | 'decision' | 'mode'>;
  readonly rules: Counter<'policy' | 'route' | 'code'>;
  readonly score: Histogram<'policy'>;
  readonly decisionSeconds: Histogram;
  readonly upstreamSeconds: Histogram<'status_class'>;
  readonly signalHits: Counter<'signal' | 'reason'>;
  readonly feedEntries: Gauge<'feed'>;
  readonly feedAgeSeconds: Gauge<'feed'>;
  readonly feedStale: Gauge<'feed'>;
  readonly configInfo: Gauge<'policy' | 'hash' | 'source'>;
  readonly reloads: Counter<'result'>;
  readonly challengesPassed: Counter<'kind'>;
  private feedsOf: () => CompiledPolicy['feeds'] = () => [];

  constructor(defaultMetrics = true) {
    const registers = [this.registry];
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'riskgate_' });
    this.decisions = new Counter({
      name: 'riskgate_decisions_total',
      help: 'Decisions by policy, route and decision (in monitor mode: the decision that would have applied).',
      labelNames: ['policy', 'route', 'decision', 'mode'],
      registers,
    });
    this.rules = new Counter({
      name: 'riskgate_rule_rejections_total',
      help: 'Requests refused by a rule (authentication, scopes, malformed input) before scoring.',
      labelNames: ['policy', 'route', 'code'],
      registers,
    });
    this.score = new Histogram({
      name: 'riskgate_score',
      help: 'Risk score of scored requests.',
      labelNames: ['policy'],
      buckets: [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
      registers,
    });
    this.decisionSeconds = new Histogram({
      name: 'riskgate_decision_duration_seconds',
      help: 'Time from arrival to decision, excluding waits for the app.',
      buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.025, 0.1],
      registers,
    });
    this.upstreamSeconds = new Histogram({
      name: 'riskgate_upstream_duration_seconds',
      help: 'Time to the app response headers.',
      labelNames: ['status_class'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.signalHits = new Counter({
      name: 'riskgate_signal_hits_total',
      help: 'Contributions to scores by signal and reason code.',
      labelNames: ['signal', 'reason'],
      registers,
    });
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
    this.challengesPassed = new Counter({
      name: 'riskgate_challenges_passed_total',
      help: 'Challenged requests let through because the client met the challenge.',
      labelNames: ['kind'],
      registers,
    });
  }

  // Label children are looked up once per label combination, not hashed on every request.
  private readonly children = new Map<string, { inc(): void } | { observe(v: number): void }>();

  private child<T>(key: string, make: () => T): T {
    let c = this.children.get(key) as T | undefined;
    if (c === undefined) {
      c = make();
      this.children.set(key, c as { inc(): void });
    }
    return c;
  }

  countDecision(policy: string, route: string, decision: string, mode: string): void {
    this.child(`d\0${policy}\0${route}\0${decision}\0${mode}`, () =>
      this.decisions.labels(policy, route, decision, mode),
    ).inc();
  }

  countSignal(reason: string): void {
    this.child(`s\0${reason}`, () =>
      this.signalHits.labels(reason.slice(0, reason.indexOf('.')), reason),
    ).inc();
  }

  observeScore(policy: string, score: number): void {
    this.child(`p\0${policy}`, () => this.score.labels(policy)).observe(score);
  }

  observeUpstream(statusClass: string, seconds: number): void {
    this.child(`u\0${statusClass}`, () => this.upstreamSeconds.labels(statusClass)).observe(seconds);
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
