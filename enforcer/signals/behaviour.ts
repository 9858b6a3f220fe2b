/**
 * Behaviour against learned baselines:
 * - unfamiliar context: the Freeman et al. likelihood ratio p(value | everyone) ÷ p(value | this
 *   subject) over ASN, country, user-agent family, device and hour of day. The subject's
 *   distribution is shrunk towards everyone's, so a new subject scores ~1 (cold start never
 *   fires) and the ratio sharpens as history grows (it does not stay blind).
 * - rate: requests this minute far above the subject's own active-minute rate, or — with too
 *   little history — above everyone's (a fresh account scraping is still seen).
 * - errors: a burst of 4xx/5xx answers, as object-id enumeration produces.
 * - first use of a high or critical route by an established subject.
 */
import { Population } from '../behaviour/population.ts';
import { currentMinute, FEATURES, type Feature, type SubjectProfile } from '../behaviour/profile.ts';
import type { RequestContext } from '../context/request-context.ts';
import type { StateSnapshot } from '../state/state-store.ts';
import type { Contribution, Signal } from './signal.ts';

const SHRINK = 5;
const ESTABLISHED = 30;
const Z: Record<'low' | 'medium' | 'high', number> = { low: 6, medium: 4, high: 3 };
/** Summed log10 ratio at which the unfamiliar-context view reaches full weight. */
const FULL_LOG_RATIO: Record<'low' | 'medium' | 'high', number> = { low: 4, medium: 3, high: 2 };
const MAX_FEATURE_LOG_RATIO = 1.5;
const MIN_RATE_LIMIT = 30;

const families = new Map<string, string>();

/** Browser/OS family of a user agent; memoised (bounded), since clients repeat theirs. */
export function agentFamily(userAgent: string): string {
  let family = families.get(userAgent);
  if (family === undefined) {
    family = computeAgentFamily(userAgent);
    if (families.size >= 10_000) families.clear();
    families.set(userAgent, family);
  }
  return family;
}

function computeAgentFamily(userAgent: string): string {
  const ua = userAgent.toLowerCase();
  const browser =
    /(edg|firefox|chrome|safari|curl|python|go-http|okhttp|java|wget|postman|node)/.exec(ua)?.[1] ?? 'other';
  const os = /(windows|android|iphone|ipad|mac os|linux)/.exec(ua)?.[1] ?? 'other';
  return `${browser}/${os}`;
}

const HOURS = Array.from({ length: 24 }, (_, h) => String(h));

/** The request's context features; scoring and learning share one computation. */
export function featuresOf(ctx: RequestContext): Record<Feature, string> {
  ctx.features ??= {
    asn: ctx.location.asn === undefined ? '?' : String(ctx.location.asn),
    country: ctx.location.country ?? '?',
    agent: agentFamily(ctx.userAgent),
    device: ctx.device.id ?? '?',
    hour: HOURS[Math.floor(ctx.now / 3_600_000) % 24]!,
  };
  return ctx.features;
}

export class BehaviourSignal implements Signal {
  readonly name = 'behaviour';
  readonly population: Population;
  readonly windowMs: number;
  private readonly weight: number;
  private readonly sensitivity: 'low' | 'medium' | 'high';

  constructor(
    weight: number,
    windowMs: number,
    sensitivity: 'low' | 'medium' | 'high',
    population = new Population(),
  ) {
    this.weight = weight;
    this.windowMs = windowMs;
    this.sensitivity = sensitivity;
    this.population = population;
  }

  /** Sum over features of log10 p(v|everyone)/p(v|subject), each capped. */
  logLikelihoodRatio(profile: SubjectProfile, features: Record<Feature, string>): number {
    let total = 0;
    for (const f of FEATURES) {
      if (features[f] === '?') continue;
      const pg = this.population.probability(f, features[f]);
      const pu = ((profile.features[f][features[f]] ?? 0) + SHRINK * pg) / (profile.totals[f] + SHRINK);
      total += Math.min(MAX_FEATURE_LOG_RATIO, Math.log10(pg / pu));
    }
    return total;
  }

  evaluate(ctx: RequestContext, state: StateSnapshot, out: Contribution[]): void {
    if (ctx.riskSubject === undefined) return;
    const profile = state.profile;
    const features = featuresOf(ctx);
    const minute = profile ? currentMinute(profile, ctx.now) : { count: 1, errors: 0 };

    // Rate: own baseline once established, everyone's before.
    const own = profile && profile.rate.n >= 5 ? profile.rate : undefined;
    const base = own ?? (this.population.rate.n >= 20 ? this.population.rate : undefined);
    if (base) {
      const std = Math.max(Math.sqrt(base.variance), base.mean * 0.5, 2);
      const limit = Math.max(MIN_RATE_LIMIT, base.mean + Z[this.sensitivity] * std);
      if (minute.count > limit) {
        const s = Math.min(1, 0.5 + (minute.count - limit) / limit);
        out.push({
          code: 'behaviour.rate_anomaly',
          points: Math.round(this.weight * s),
          detail: `${minute.count}/min`,
        });
      }
    } else if (minute.count > MIN_RATE_LIMIT * 4) {
      out.push({ code: 'behaviour.rate_anomaly', points: this.weight, detail: `${minute.count}/min` });
    }

    if (!profile) return;
    if (minute.count >= 10 && minute.errors / minute.count > Math.max(0.5, profile.errors.mean + 0.3)) {
      out.push({
        code: 'behaviour.error_spike',
        points: this.weight,
        detail: `${minute.errors}/${minute.count} errors`,
      });
    }
    if (profile.n >= ESTABLISHED) {
      const llr = this.logLikelihoodRatio(profile, features);
      if (llr > 0.5) {
        const s = Math.min(1, llr / FULL_LOG_RATIO[this.sensitivity]);
        out.push({
          code: 'behaviour.unfamiliar_context',
          points: Math.round(this.weight * s),
          detail: `log10 LR ${llr.toFixed(2)}`,
        });
      }
      const sensitive = ctx.route.sensitivity === 'high' || ctx.route.sensitivity === 'critical';
      // Alone it stays under a critical route's challenge threshold; with another anomaly it counts.
      if (sensitive && !profile.routes.includes(ctx.route.name)) {
        out.push({
          code: 'behaviour.first_use_sensitive_route',
          points: Math.round(this.weight / 4),
          detail: ctx.route.name,
        });
      }
    }
  }
}
