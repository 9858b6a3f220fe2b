/**
 * What everyone looks like, learned by each enforcer from its own traffic: how often each
 * context value occurs across all subjects, and the request rate of an active subject-minute.
 * It is the "attacker" side of the likelihood ratio and the baseline of subjects with no
 * history yet.
 */
import { type Ewma, FEATURES, type Feature, updateEwma } from './profile.ts';

const MAX_VALUES = 4096;

/** A value's count, mutable in place: learning a known value costs one lookup, not two. */
interface Count {
  n: number;
}

export class Population {
  private readonly counts: Record<Feature, Map<string, Count>> = {
    asn: new Map(),
    country: new Map(),
    agent: new Map(),
    device: new Map(),
    hour: new Map(),
  };
  private readonly totals: Record<Feature, number> = { asn: 0, country: 0, agent: 0, device: 0, hour: 0 };
  readonly rate: Ewma = { mean: 0, variance: 0, n: 0 };

  learn(features: Record<Feature, string>): void {
    for (const f of FEATURES) {
      const map = this.counts[f];
      this.totals[f]++;
      const count = map.get(features[f]);
      if (count !== undefined) {
        count.n++;
        continue;
      }
      map.set(features[f], { n: 1 });
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

  /** p(value) over everyone, with add-one smoothing. */
  probability(feature: Feature, value: string): number {
    const map = this.counts[feature];
    return ((map.get(value)?.n ?? 0) + 1) / (this.totals[feature] + map.size + 1);
  }
}
