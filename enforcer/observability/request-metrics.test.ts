import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RequestCounter, RequestHistogram } from './request-metrics.ts';

describe('request metrics rendered by a prom-client registry', () => {
  it('renders counters per label combination and cumulative histogram buckets', async () => {
    const registry = new Registry();
    const counter = new RequestCounter({
      name: 'c_total',
      help: 'A counter.',
      labelNames: ['route', 'decision'],
    });
    const histogram = new RequestHistogram({
      name: 'h_seconds',
      help: 'A histogram.',
      buckets: [0.5, 0.1, 1],
    });
    registry.registerMetric(counter as never);
    registry.registerMetric(histogram as never);
    const allow = counter.labels('login', 'allow');
    allow.inc();
    allow.inc();
    counter.labels('login', 'deny').inc(3);
    const h = histogram.labels();
    for (const v of [0.05, 0.1, 0.3, 0.7, 2]) h.observe(v);

    const text = await registry.metrics();
    expect(text).toContain('# TYPE c_total counter');
    expect(text).toContain('c_total{route="login",decision="allow"} 2');
    expect(text).toContain('c_total{route="login",decision="deny"} 3');
    expect(text).toContain('# TYPE h_seconds histogram');
    expect(text).toContain('h_seconds_bucket{le="0.1"} 2');
    expect(text).toContain('h_seconds_bucket{le="0.5"} 3');
    expect(text).toContain('h_seconds_bucket{le="1"} 4');
    expect(text).toContain('h_seconds_bucket{le="+Inf"} 5');
    expect(text).toContain('h_seconds_sum 3.15');
    expect(text).toContain('h_seconds_count 5');
  });

  it('refuses a label set of the wrong size', () => {
    const counter = new RequestCounter({ name: 'c_total', help: 'A counter.', labelNames: ['route'] });
    expect(() => counter.labels('a', 'b')).toThrow(/takes labels route/);
  });
});
