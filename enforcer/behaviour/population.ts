/**
 * What everyone looks like, learned by each enforcer from its own traffic: how often each
 * context value occurs across all subjects, and the request rate of an active subject-minute.
 * It is the "attacker" side of the likelihood ratio and the baseline of subjects with no
 * history yet.
 */
import { type Ewma, FEATURES, type Feature, updateEwma } from './profile.ts';

const MAX_VALUES = 4096;

export class Population {
  readonly counts: Record<Feature, Map<string, number>> = {
    asn: new Map(),
    country: new Map(),
    agent: new Map(),
    device: new Map(),
    hour: new Map(),
  };
  readonly totals: Record<Feature, number> = { asn: 0, country: 0, agent: 0, device: 0, hour: 0 };
  readonly rate: Ewma = { mean: 0, variance: 0, n: 0 };

  learn(features: Record<Feature, string>): void {
    for (const f of FEATURES) {
      const map = this.counts[f];
      map.set(features[f], (map.get(features[f]) ?? 0) + 1);
      this.totals[f]++;
      if (map.size > MAX_VALUES) {
        // Forget the first-inserted value: rare values age out, common ones come back at once.
        const oldest = map.keys().next().value!;
        this.totals[f] -= map.get(oldest)!;
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
    return ((map.get(value) ?? 0) + 1) / (this.totals[feature] + map.size + 1);
  }
}
