import { describe, expect, it } from 'vitest';
import { testContext, tokenSubject } from '../../test/support/request-context.ts';
import { learn, score } from '../../test/support/signal-harness.ts';
import type { RequestContext } from '../context/request-context.ts';
import { type ClientLocation, UNKNOWN_LOCATION } from '../geo/geo-lookup.ts';
import { MemoryStateStore } from '../state/memory-store.ts';
import { GeoVelocitySignal, greatCircleKm } from './geo-velocity.ts';

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

  async function run(state: MemoryStateStore, location: ClientLocation, now: number) {
    return (await score(signal, state, ctxAt(location, now))).contributions;
  }
  const seen = (state: MemoryStateStore, location: ClientLocation, now: number) =>
    learn(signal, state, ctxAt(location, now));

  it('fires on London → New York in one hour, not in ten', async () => {
    const state = new MemoryStateStore();
    seen(state, london, t0);
    expect(await run(state, newYork, t0 + 3_600_000)).toMatchObject([
      { code: 'geo.impossible_travel', points: 60 },
    ]);
    expect(await run(state, newYork, t0 + 10 * 3_600_000)).toEqual([]);
  });

  it('stays quiet within one ASN, for unknown places, for first sightings and inside the accuracy radius', async () => {
    const state = new MemoryStateStore();
    expect(await run(state, newYork, t0)).toEqual([]); // nothing seen yet
    seen(state, london, t0);
    expect(await run(state, { ...newYork, asn: 2856 }, t0 + 60_000)).toEqual([]); // a mobile carrier's far gateway
    expect(await run(state, UNKNOWN_LOCATION, t0 + 60_000)).toEqual([]);
    const fuzzy = place(48.85, 2.35, 3215, 400); // Paris, but only known to ±400 km
    expect(await run(state, fuzzy, t0 + 60_000)).toEqual([]);
  });
});
