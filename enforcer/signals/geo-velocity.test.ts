import { describe, expect, it } from 'vitest';
import { testContext, tokenSubject } from '../../test/support/request-context.ts';
import type { RequestContext } from '../context/request-context.ts';
import { type ClientLocation, UNKNOWN_LOCATION } from '../geo/geo-lookup.ts';
import { MemoryStateStore } from '../state/memory-store.ts';
import { GeoVelocitySignal, greatCircleKm } from './geo-velocity.ts';
import type { Contribution } from './signal.ts';

describe('great-circle distance', () => {
  it('matches known distances', () => {
    expect(greatCircleKm(51.5074, -0.1278, 40.7128, -74.006)).toBeCloseTo(5570, -1); // London–New York
    expect(greatCircleKm(52.52, 13.405, 48.8566, 2.3522)).toBeCloseTo(878, -1); // Berlin–Paris
    expect(greatCircleKm(10, 10, 10, 10)).toBe(0);
  });
});

const place = (latitude: number, longitude: number, asn: number, accuracyKm = 20): ClientLocation => ({
  country: 'XX',
  latitude,
  longitude,
  accuracyKm,
  asn,
  asnOrganisation: '',
  hosting: false,
});

function ctxAt(location: ClientLocation, now: number): RequestContext {
  return testContext({ location, ...tokenSubject('alice'), now });
}

describe('geo-velocity', () => {
  const signal = new GeoVelocitySignal(60, 1000);
  const london = place(51.5, -0.12, 2856);
  const newYork = place(40.7, -74.0, 7018);
  const t0 = 1_800_000_000_000;

  function run(state: MemoryStateStore, location: ClientLocation, now: number) {
    const out: Contribution[] = [];
    const ctx = ctxAt(location, now);
    signal.evaluate(ctx, state.read(ctx, { loginWindowMs: undefined, lastSeen: true }), out);
    return out;
  }

  it('fires on London → New York in one hour, not in ten', () => {
    const state = new MemoryStateStore();
    state.recordSeen('alice', { ...london, at: t0 });
    expect(run(state, newYork, t0 + 3_600_000)).toMatchObject([
      { code: 'geo.impossible_travel', points: 60 },
    ]);
    expect(run(state, newYork, t0 + 10 * 3_600_000)).toEqual([]);
  });

  it('stays quiet within one ASN, for unknown places, for first sightings and inside the accuracy radius', () => {
    const state = new MemoryStateStore();
    expect(run(state, newYork, t0)).toEqual([]); // nothing seen yet
    state.recordSeen('alice', { ...london, at: t0 });
    expect(run(state, { ...newYork, asn: 2856 }, t0 + 60_000)).toEqual([]); // a mobile carrier's far gateway
    expect(run(state, UNKNOWN_LOCATION, t0 + 60_000)).toEqual([]);
    const fuzzy = place(48.85, 2.35, 3215, 400); // Paris, but only known to ±400 km
    expect(run(state, fuzzy, t0 + 60_000)).toEqual([]);
  });
});
