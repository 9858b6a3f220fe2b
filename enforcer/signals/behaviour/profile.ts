/**
 * Learned behaviour of one subject, small enough to keep per subject and to ship to Redis as
 * one value (~1–2 KB): request rate per active minute (EWMA and variance), error ratio and
 * response size (EWMA), the routes it uses, and counts of its context features (ASN, country,
 * user-agent family, device, hour of day) for the likelihood ratios of Freeman et al.,
 * "Who Are You? A Statistical Approach to Measuring User Authenticity" (NDSS 2016).
 */

export const FEATURES = ['asn', 'country', 'agent', 'device', 'hour'] as const;
export type Feature = (typeof FEATURES)[number];

/** Values kept per feature: the most used; the rest are forgotten (they weigh little). */
const MAX_VALUES = 12;
const MAX_ROUTES = 64;
/** Smoothing of rates and ratios: a half-life of ~14 observations. */
const ALPHA = 0.05;

export interface Ewma {
  mean: number;
  variance: number;
  n: number;
}

export interface SubjectProfile {
  /** Requests learned from. */
  n: number;
  /** Per active minute. */
  rate: Ewma;
  /** Share of 4xx/5xx answers (excluding 401/403, which are ours or the app's auth). */
  errors: Ewma;
  bytes: Ewma;
  routes: string[];
  features: Record<Feature, Record<string, number>>;
  /** Each feature's counts summed: the likelihood ratio needs it on every request. */
  totals: Record<Feature, number>;
  /** The minute being counted (epoch minute) and its count. */
  minute: number;
  minuteCount: number;
  minuteErrors: number;
}

export function emptyProfile(): SubjectProfile {
  return {
    n: 0,
    rate: { mean: 0, variance: 0, n: 0 },
    errors: { mean: 0, variance: 0, n: 0 },
    bytes: { mean: 0, variance: 0, n: 0 },
    routes: [],
    features: { asn: {}, country: {}, agent: {}, device: {}, hour: {} },
    totals: { asn: 0, country: 0, agent: 0, device: 0, hour: 0 },
    minute: 0,
    minuteCount: 0,
    minuteErrors: 0,
  };
}

export function updateEwma(e: Ewma, x: number): void {
  if (e.n === 0) {
    e.mean = x;
    e.variance = 0;
  } else {
    const diff = x - e.mean;
    const incr = ALPHA * diff;
    e.mean += incr;
    e.variance = (1 - ALPHA) * (e.variance + diff * incr);
  }
  e.n++;
}

/**
 * Counts a feature value, keeping the most frequent values only. Returns how the sum of the
 * counts changed: +1, less what a forgotten value had.
 */
export function countValue(counts: Record<string, number>, value: string): number {
  const known = counts[value];
  counts[value] = (known ?? 0) + 1;
  if (known !== undefined) return 1; // only a new value can overflow the table
  const keys = Object.keys(counts);
  if (keys.length <= MAX_VALUES) return 1;
  let min = keys[0]!;
  for (const k of keys) if (counts[k]! < counts[min]! && k !== value) min = k;
  const forgotten = counts[min]!;
  delete counts[min];
  return 1 - forgotten;
}

/** A profile read back from storage, with its totals recomputed (older ones have none). */
export function restoreProfile(profile: SubjectProfile): SubjectProfile {
  const totals = { asn: 0, country: 0, agent: 0, device: 0, hour: 0 };
  for (const f of FEATURES) {
    const counts = profile.features[f];
    for (const k in counts) totals[f] += counts[k]!;
  }
  profile.totals = totals;
  return profile;
}

export interface Observation {
  now: number;
  route: string;
  status: number;
  bytes: number;
  features: Record<Feature, string>;
}

/** The requests this subject made in the current minute, including the one being scored. */
export function currentMinute(profile: SubjectProfile, now: number): { count: number; errors: number } {
  const minute = Math.floor(now / 60_000);
  return profile.minute === minute
    ? { count: profile.minuteCount + 1, errors: profile.minuteErrors }
    : { count: 1, errors: 0 };
}

export function isError(status: number): boolean {
  return status >= 400 && status !== 401 && status !== 403 && status !== 429;
}

/**
 * Learns one answered request. Closes the previous minute into the rate baseline and returns
 * its request count (0 when the minute did not change), for the population's baseline.
 */
export function learn(profile: SubjectProfile, o: Observation): number {
  const minute = Math.floor(o.now / 60_000);
  let closed = 0;
  if (profile.minute !== minute) {
    closed = profile.minuteCount;
    if (profile.minuteCount > 0) {
      updateEwma(profile.rate, profile.minuteCount);
      updateEwma(profile.errors, profile.minuteErrors / profile.minuteCount);
    }
    profile.minute = minute;
    profile.minuteCount = 0;
    profile.minuteErrors = 0;
  }
  profile.minuteCount++;
  if (isError(o.status)) profile.minuteErrors++;
  if (o.bytes > 0) updateEwma(profile.bytes, o.bytes);
  if (!profile.routes.includes(o.route) && profile.routes.length < MAX_ROUTES) profile.routes.push(o.route);
  for (const f of FEATURES) profile.totals[f] += countValue(profile.features[f], o.features[f]);
  profile.n++;
  return closed;
}
