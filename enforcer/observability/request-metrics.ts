/**
 * Counters and histograms for the request path, exposed through a prom-client Registry.
 *
 * Why not prom-client's own Counter and Histogram here: every inc() and observe() — even on a
 * labelled child — validates and hashes its label set into a string key, a few microseconds
 * per request across the handful of metrics each request touches. Here a label combination is
 * resolved to a child once; after that, counting is a field increment and observing is a
 * bucket scan. The registry still renders them (it only asks a metric for get()), so /metrics
 * reads the same to Prometheus.
 */
type Labels = Record<string, string | number>;

/** What prom-client's Registry reads from a metric to render it. */
interface RenderedMetric {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: { labels: Labels; value: number; metricName?: string }[];
}

function labelsOf(names: readonly string[], values: readonly string[]): Labels {
  const labels: Labels = {};
  for (let i = 0; i < names.length; i++) labels[names[i]!] = values[i]!;
  return labels;
}

abstract class LabelledMetric<Child> {
  readonly name: string;
  readonly help: string;
  abstract readonly type: 'counter' | 'histogram';
  readonly aggregator = 'sum' as const;
  protected readonly labelNames: readonly string[];
  protected children = new Map<string, { labels: Labels; child: Child }>();

  constructor(options: { name: string; help: string; labelNames?: readonly string[] }) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames ?? [];
  }

  protected abstract create(): Child;

  /** The child for these label values, in labelNames order. Resolve once, keep it. */
  labels(...values: string[]): Child {
    if (values.length !== this.labelNames.length) {
      throw new TypeError(`${this.name} takes labels ${this.labelNames.join(', ')}`);
    }
    const key = values.join('\0');
    let entry = this.children.get(key);
    if (entry === undefined) {
      entry = { labels: labelsOf(this.labelNames, values), child: this.create() };
      this.children.set(key, entry);
    }
    return entry.child;
  }

  reset(): void {
    this.children = new Map();
  }
}

export class CounterChild {
  value = 0;
  inc(by = 1): void {
    this.value += by;
  }
}

export class RequestCounter extends LabelledMetric<CounterChild> {
  readonly type = 'counter' as const;

  protected create(): CounterChild {
    return new CounterChild();
  }

  get(): RenderedMetric {
    const values: RenderedMetric['values'] = [];
    for (const { labels, child } of this.children.values()) values.push({ labels, value: child.value });
    return { name: this.name, help: this.help, type: 'counter', values, aggregator: 'sum' };
  }
}

export class HistogramChild {
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  private readonly bounds: Float64Array;

  constructor(bounds: Float64Array) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

export class RequestHistogram extends LabelledMetric<HistogramChild> {
  readonly type = 'histogram' as const;
  private readonly bounds: Float64Array;

  constructor(options: { name: string; help: string; labelNames?: readonly string[]; buckets: number[] }) {
    super(options);
    this.bounds = Float64Array.from([...options.buckets].sort((a, b) => a - b));
  }

  protected create(): HistogramChild {
    return new HistogramChild(this.bounds);
  }

  get(): RenderedMetric {
    const values: RenderedMetric['values'] = [];
    for (const { labels, child } of this.children.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += child.counts[i]!;
        const le = i < this.bounds.length ? this.bounds[i]! : '+Inf';
        values.push({ labels: { ...labels, le }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels, value: child.sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: child.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
  }
}
