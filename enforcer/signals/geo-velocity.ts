/**
 * Impossible travel: the distance between a subject's last accepted location and this request,
 * less both places' accuracy radii, over the time between them, faster than the policy's limit.
 * Unknown locations never fire, nor does movement inside one ASN: mobile carriers geolocate
 * their users to wherever the carrier's gateway happens to be.
 */
import type { RequestContext } from '../context/request-context.ts';
import { type Fields, recordAt, type StatePlan, type StateView, type StateWrites } from '../state/slots.ts';
import { type CompiledSignal, type Contribution, defineSignal, type Outcome } from './signal.ts';

const EARTH_RADIUS_KM = 6371.0088;
/** Below this, a jump is noise whatever the speed (two requests in one second, say). */
const MIN_DISTANCE_KM = 300;
/** A subject's last place is kept this long after it was last accepted. */
const SEEN_TTL_MS = 7 * 24 * 60 * 60_000;

export function greatCircleKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** The slot space of subjects' last places. */
const LAST_SEEN = 'seen';

/**
 * Where a subject was last accepted from, as its record's fields: latitude, longitude, accuracy
 * (km), ASN ('' when unknown) and epoch ms. Read back from Redis the numbers are text.
 */
export interface LastSeen {
  lat: number;
  lon: number;
  acc: number;
  asn: number | '';
  at: number;
}

export class GeoVelocitySignal implements CompiledSignal<number | undefined> {
  readonly name = 'geoVelocity';
  private readonly weight: number;
  private readonly maxSpeedKmh: number;

  constructor(weight: number, maxSpeedKmh: number) {
    this.weight = weight;
    this.maxSpeedKmh = maxSpeedKmh;
  }

  plan(ctx: RequestContext, plan: StatePlan): number | undefined {
    if (ctx.riskSubject === undefined || Number.isNaN(ctx.location.latitude)) return undefined;
    return plan.record(LAST_SEEN, ctx.riskSubject);
  }

  score(ctx: RequestContext, state: StateView, slot: number | undefined, out: Contribution[]): void {
    if (slot === undefined) return;
    const here = ctx.location;
    const last = recordAt(state, slot);
    if (last === undefined || last['at'] === undefined) return;
    if (last['asn'] !== '' && Number(last['asn']) === here.asn) return;
    const distance =
      greatCircleKm(Number(last['lat']), Number(last['lon']), here.latitude, here.longitude) -
      Number(last['acc']) -
      here.accuracyKm;
    if (distance < MIN_DISTANCE_KM) return;
    const hours = Math.max(ctx.now - Number(last['at']), 1000) / 3_600_000;
    const speed = distance / hours;
    if (speed > this.maxSpeedKmh) {
      out.push({
        code: 'geo.impossible_travel',
        points: this.weight,
        detail: `${Math.round(distance)} km in ${Math.round(hours * 60)} min`,
      });
    }
  }

  /** An accepted request anchors the subject's place. */
  learn(ctx: RequestContext, outcome: Outcome, _memo: unknown, writes: StateWrites): void {
    const subject = ctx.riskSubject;
    const loc = ctx.location;
    if (subject === undefined || !outcome.accepted || Number.isNaN(loc.latitude)) return;
    const seen: LastSeen = {
      lat: loc.latitude,
      lon: loc.longitude,
      acc: loc.accuracyKm,
      asn: loc.asn ?? '',
      at: ctx.now,
    };
    writes.record(LAST_SEEN, subject, seen as unknown as Fields, SEEN_TTL_MS);
  }
}

export const geoVelocity = defineSignal({
  name: 'geoVelocity',
  usesLocation: true,
  reasons: [
    {
      code: 'geo.impossible_travel',
      points: 'weight',
      when: "distance from the subject's last accepted location, less both accuracy radii, over the time since, exceeds `maxSpeedKmh`; never within one ASN, for unknown locations, or under 300 km",
    },
  ],
  compile: (spec) => new GeoVelocitySignal(spec.weight, spec.maxSpeedKmh),
});
