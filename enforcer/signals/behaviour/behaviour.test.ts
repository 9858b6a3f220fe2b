import { describe, expect, it } from 'vitest';
import { testContext, tokenSubject } from '../../../test/support/request-context.ts';
import { scoreWithValues } from '../../../test/support/signal-harness.ts';
import type { RequestContext } from '../../context/request-context.ts';
import { UNKNOWN_LOCATION } from '../../geo/geo-lookup.ts';
import { BehaviourSignal, featuresOf } from './behaviour.ts';
import { emptyProfile, learn, type SubjectProfile } from './profile.ts';

const T0 = Date.UTC(2026, 10, 2, 9, 0, 0);
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0';

function ctx(over: {
  subject?: string;
  asn?: number;
  country?: string;
  ua?: string;
  now?: number;
  route?: string;
  sensitivity?: string;
}): RequestContext {
  return testContext({
    location: { ...UNKNOWN_LOCATION, asn: over.asn ?? 3320, country: over.country ?? 'DE' },
    route: {
      name: over.route ?? 'orders',
      sensitivity: over.sensitivity ?? 'medium',
    } as RequestContext['route'],
    ...tokenSubject(over.subject ?? 'alice'),
    userAgent: over.ua ?? FIREFOX,
    headers: {},
    httpVersion: '1.1',
    now: over.now ?? T0,
  });
}

/** A user and her colleagues: three weeks of office-hours use from home in Germany. */
function trained(signal: BehaviourSignal): SubjectProfile {
  const profile = emptyProfile();
  for (let day = 0; day < 21; day++) {
    for (let i = 0; i < 12; i++) {
      const now = T0 + day * 86_400_000 + i * 1_800_000;
      const c = ctx({ now });
      const closed = learn(profile, {
        now,
        route: 'orders',
        status: 200,
        bytes: 1200,
        features: featuresOf(c),
      });
      signal.population.learn(featuresOf(c));
      if (closed) signal.population.learnMinute(closed);
      // everyone else: a spread of networks and browsers
      const other = ctx({
        now,
        asn: 7000 + (i % 40),
        country: ['FR', 'US', 'GB', 'DE', 'BR'][i % 5]!,
        ua: i % 2 ? 'Chrome Windows' : FIREFOX,
      });
      signal.population.learn(featuresOf(other));
      signal.population.learnMinute(1 + (i % 3));
    }
  }
  return profile;
}

function run(signal: BehaviourSignal, profile: SubjectProfile | undefined, c: RequestContext) {
  return scoreWithValues(signal, c, () => [profile]).map((o) => o.code);
}

describe('behaviour baselines', () => {
  it('never fires for a new subject at a normal pace (cold start)', () => {
    const signal = new BehaviourSignal(30, 86_400_000, 'medium');
    trained(signal);
    expect(run(signal, undefined, ctx({ subject: 'newbie', asn: 9999, country: 'BR' }))).toEqual([]);
    expect(run(signal, emptyProfile(), ctx({ subject: 'newbie', asn: 9999, country: 'BR' }))).toEqual([]);
  });

  it('is quiet for the established user in her usual context', () => {
    const signal = new BehaviourSignal(30, 86_400_000, 'medium');
    const profile = trained(signal);
    expect(run(signal, profile, ctx({ now: T0 + 22 * 86_400_000 }))).toEqual([]);
  });

  it('flags an unfamiliar network, country and browser for an established user', () => {
    const signal = new BehaviourSignal(30, 86_400_000, 'medium');
    const profile = trained(signal);
    const codes = run(
      signal,
      profile,
      ctx({
        now: T0 + 22 * 86_400_000 + 3 * 3_600_000 + 1,
        asn: 7003,
        country: 'US',
        ua: 'python-requests/2.32',
      }),
    );
    expect(codes).toContain('behaviour.unfamiliar_context');
  });

  it('flags a burst far above the subject’s own rate, and the first use of a critical route', () => {
    const signal = new BehaviourSignal(30, 86_400_000, 'medium');
    const profile = trained(signal);
    const now = T0 + 22 * 86_400_000;
    profile.minute = Math.floor(now / 60_000);
    profile.minuteCount = 120;
    expect(run(signal, profile, ctx({ now }))).toContain('behaviour.rate_anomaly');
    profile.minuteCount = 0;
    expect(
      run(signal, profile, ctx({ now: now + 60_000, route: 'export-all', sensitivity: 'critical' })),
    ).toContain('behaviour.first_use_sensitive_route');
  });

  it('flags an error burst, as enumeration of object ids produces', () => {
    const signal = new BehaviourSignal(30, 86_400_000, 'medium');
    const profile = trained(signal);
    const now = T0 + 22 * 86_400_000;
    profile.minute = Math.floor(now / 60_000);
    profile.minuteCount = 20;
    profile.minuteErrors = 18;
    expect(run(signal, profile, ctx({ now }))).toContain('behaviour.error_spike');
  });
});
