/**
 * What everyone looks like, learned by each enforcer from its own traffic: how often each value
 * of a context feature occurs. It is the "attacker" side of a likelihood ratio (Freeman et al.,
 * NDSS 2016) — how common a value is across everyone — and what a subject with no history yet
 * is compared with. Bounded: rare values age out, common ones come back at once.
 */
import { type Ewma, updateEwma } from './behaviour/profile.ts';

const MAX_VALUES = 4096;

/** A value's count, mutable in place: learning a known value costs one lookup, not two. */
interface Count {
  n: number;
}

export class Population<F extends string> {
  private readonly features: readonly F[];
  private readonly counts = {} as Record<F, Map<string, Count>>;
  private readonly totals = {} as Record<F, number>;
  /** The request rate of an active subject-minute (behaviour). */
  readonly rate: Ewma = { mean: 0, variance: 0, n: 0 };

  private readonly vocabulary: Partial<Record<F, number>>;

  /**
   * `vocabulary`: how many values a feature can take in the world (countries, ASNs, networks…).
   * While this enforcer has seen little, it keeps an unseen value from looking common: a
   * population of one user must not make that user's network look like everyone's.
   */
  constructor(features: readonly F[], vocabulary: Partial<Record<F, number>> = {}) {
    this.features = features;
    this.vocabulary = vocabulary;
    for (const f of features) {
      this.counts[f] = new Map();
      this.totals[f] = 0;
    }
  }

  /** Learns one value per feature; features without a value are skipped. */
  learn(values: Readonly<Record<F, string | undefined>>): void {
    for (const f of this.features) {
      const value = values[f];
      if (value === undefined) continue;
      const map = this.counts[f];
      this.totals[f]++;
      const count = map.get(value);
      if (count !== undefined) {
        count.n++;
        continue;
      }
      map.set(value, { n: 1 });
      if (map.size > MAX_VALUES) {
        // Forget the first-inserted value: rare values age out, common ones come back at once.
        const [oldest, forgotten] = map.entries().next().value!;
        this.totals[f] -= forgotten.n;
        map.delete(oldest);
      }
    }
  }

  learnMinute(count: number): void {
    updateEwma(this.rate, count);
  }

  /** p(value) over everyone, with add-one smoothing over the feature's vocabulary. */
  probability(feature: F, value: string): number {
    const map = this.counts[feature];
    const values = Math.max(map.size + 1, this.vocabulary[feature] ?? 0);
    return ((map.get(value)?.n ?? 0) + 1) / (this.totals[feature] + values);
  }
}
