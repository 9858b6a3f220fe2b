import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyProfile, FEATURES, learn, restoreProfile } from './profile.ts';

const sums = (profile: ReturnType<typeof emptyProfile>) =>
  Object.fromEntries(FEATURES.map((f) => [f, Object.values(profile.features[f]).reduce((a, b) => a + b, 0)]));

describe('subject profile', () => {
  it('keeps each feature total equal to the sum of its counts, through forgotten values (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 300 }), (values) => {
        const profile = emptyProfile();
        let now = 0;
        for (const v of values) {
          now += 1000;
          learn(profile, {
            now,
            route: 'r',
            status: 200,
            bytes: 10,
            // Up to 41 distinct values per feature: the table of 12 forgets some.
            features: {
              asn: String(v),
              country: `c${v % 7}`,
              agent: 'a',
              device: `d${v}`,
              hour: String(v % 24),
            },
          });
        }
        expect(profile.totals).toEqual(sums(profile));
      }),
      { numRuns: 200 },
    );
  });

  it('recomputes the totals of a profile read back from storage, older ones without totals included', () => {
    const profile = emptyProfile();
    learn(profile, {
      now: 1,
      route: 'r',
      status: 200,
      bytes: 1,
      features: { asn: '3320', country: 'DE', agent: 'firefox/linux', device: '?', hour: '9' },
    });
    const stored = JSON.parse(JSON.stringify(profile));
    delete stored.totals;
    expect(restoreProfile(stored).totals).toEqual({ asn: 1, country: 1, agent: 1, device: 1, hour: 1 });
  });
});
