/**
 * Impossible travel: the distance between a subject's last accepted location and this request,
 * less both places' accuracy radii, over the time between them, faster than the policy's limit.
 * Unknown locations never fire, nor does movement inside one ASN: mobile carriers geolocate
 * their users to wherever the carrier's gateway happens to be.
 */
import type { RequestContext } from '../context/request-context.ts';
import type { StateSnapshot } from '../state/state-store.ts';
import type { Contribution, Signal } from './signal.ts';

const EARTH_RADIUS_KM = 6371.0088;
/** Below this, a jump is noise whatever the speed (two requests in one second, say). */
const MIN_DISTANCE_KM = 300;

export function greatCircleKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

export class GeoVelocitySignal implements Signal {
  readonly name = 'geoVelocity';
  private readonly weight: number;
  private readonly maxSpeedKmh: number;

  constructor(weight: number, maxSpeedKmh: number) {
    this.weight = weight;
    this.maxSpeedKmh = maxSpeedKmh;
  }

  evaluate(ctx: RequestContext, state: StateSnapshot, out: Contribution[]): void {
    const id = ctx.riskSubject;
    const here = ctx.location;
    if (id === undefined || Number.isNaN(here.latitude)) return;
    const last = state.lastSeen;
    if (!last) return;
    if (last.asn !== undefined && last.asn === here.asn) return;
    const distance =
      greatCircleKm(last.latitude, last.longitude, here.latitude, here.longitude) -
      last.accuracyKm -
      here.accuracyKm;
    if (distance < MIN_DISTANCE_KM) return;
    const hours = Math.max(ctx.now - last.at, 1000) / 3_600_000;
    const speed = distance / hours;
    if (speed > this.maxSpeedKmh) {
      out.push({
        code: 'geo.impossible_travel',
        points: this.weight,
        detail: `${Math.round(distance)} km in ${Math.round(hours * 60)} min`,
      });
    }
  }
}
