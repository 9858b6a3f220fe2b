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
import { parseDuration } from '../../../api/duration.ts';
import type { RequestContext } from '../../context/request-context.ts';
import { agentFamily } from '../../context/user-agent.ts';
import { jsonCodec, type StatePlan, type StateView, type StateWrites, valueAt } from '../../state/slots.ts';
import { Population } from '../population.ts';
import { type CompiledSignal, type Contribution, defineSignal, type Outcome } from '../signal.ts';
import {
  currentMinute,
  emptyProfile,
  FEATURES,
  type Feature,
  learn,
  restoreProfile,
  type SubjectProfile,
} from './profile.ts';

const SHRINK = 5;
const ESTABLISHED = 30;
const Z: Record<'low' | 'medium' | 'high', number> = { low: 6, medium: 4, high: 3 };
/** Summed log10 ratio at which the unfamiliar-context view reaches full weight. */
const FULL_LOG_RATIO: Record<'low' | 'medium' | 'high', number> = { low: 4, medium: 3, high: 2 };
const MAX_FEATURE_LOG_RATIO = 1.5;
const MIN_RATE_LIMIT = 30;

const HOURS = Array.from({ length: 24 }, (_, h) => String(h));

/** The request's context features; scoring computes them once and learning reuses them. */
export function featuresOf(ctx: RequestContext): Record<Feature, string> {
  return {
    asn: ctx.location.asn === undefined ? '?' : String(ctx.location.asn),
    country: ctx.location.country ?? '?',
    agent: agentFamily(ctx.userAgent),
    device: ctx.device.id ?? '?',
    hour: HOURS[Math.floor(ctx.now / 3_600_000) % 24]!,
  };
}

/** The slot space of subjects' profiles. */
const PROFILES = 'prof';
const profileCodec = jsonCodec<SubjectProfile>(restoreProfile);

/** What scoring hands to learning: the profile as read, and the features of the request. */
interface Seen {
  profile: SubjectProfile | undefined;
  features: Record<Feature, string>;
}

export class BehaviourSignal implements CompiledSignal<number | undefined, Seen | undefined> {
  readonly name = 'behaviour';
  readonly population: Population<Feature>;
  readonly windowMs: number;
  private readonly weight: number;
  private readonly sensitivity: 'low' | 'medium' | 'high';

  constructor(
    weight: number,
    windowMs: number,
    sensitivity: 'low' | 'medium' | 'high',
    population = new Population(FEATURES),
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

  plan(ctx: RequestContext, plan: StatePlan): number | undefined {
    return ctx.riskSubject === undefined ? undefined : plan.value(PROFILES, ctx.riskSubject, profileCodec);
  }

  score(
    ctx: RequestContext,
    state: StateView,
    slot: number | undefined,
    out: Contribution[],
  ): Seen | undefined {
    if (slot === undefined) return undefined;
    const profile = valueAt<SubjectProfile>(state, slot);
    const features = featuresOf(ctx);
    this.scoreProfile(ctx, profile, features, out);
    return { profile, features };
  }

  /**
   * Every answered request of the owner teaches the subject's baseline and everyone's; a login
   * attempt only once the app accepted the password.
   */
  learn(ctx: RequestContext, outcome: Outcome, seen: Seen | undefined, writes: StateWrites): void {
    const subject = ctx.riskSubject;
    if (subject === undefined || seen === undefined || outcome.status === 0 || !outcome.owner) return;
    const profile = seen.profile ?? emptyProfile();
    const closedMinute = learn(profile, {
      now: ctx.now,
      route: ctx.route.name,
      status: outcome.status,
      bytes: outcome.bytes,
      features: seen.features,
    });
    this.population.learn(seen.features);
    if (closedMinute > 0) this.population.learnMinute(closedMinute);
    writes.value(PROFILES, subject, profile, profileCodec, this.windowMs);
  }

  private scoreProfile(
    ctx: RequestContext,
    profile: SubjectProfile | undefined,
    features: Record<Feature, string>,
    out: Contribution[],
  ): void {
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

export const behaviour = defineSignal({
  name: 'behaviour',
  // It reads the location when another signal has it looked up; it never asks for it alone.
  usesLocation: false,
  reasons: [
    {
      code: 'behaviour.unfamiliar_context',
      points: 'up to weight',
      when: "the Freeman et al. likelihood ratio of this request's ASN, country, user-agent family, device and hour, for an established subject (≥ 30 requests)",
    },
    {
      code: 'behaviour.rate_anomaly',
      points: '½–1 × weight',
      when: "requests this minute above the subject's own active-minute rate (mean + z·σ; z = 6/4/3 by sensitivity), or everyone's while the subject is new",
    },
    {
      code: 'behaviour.error_spike',
      points: 'weight',
      when: '≥ 10 requests this minute, over half of them 4xx/5xx (object-id enumeration)',
    },
    {
      code: 'behaviour.first_use_sensitive_route',
      points: 'weight ÷ 4',
      when: 'an established subject uses a high or critical route for the first time',
    },
  ],
  compile: (spec, ctx) =>
    // The population baseline survives a policy reload: it is the enforcer's experience.
    new BehaviourSignal(
      spec.weight,
      parseDuration(spec.window),
      spec.sensitivity,
      (ctx.previous as BehaviourSignal | undefined)?.population,
    ),
});
