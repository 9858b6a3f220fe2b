/**
 * The last stage: what the app answered feeds back into the state. Accepted requests anchor the
 * subject's location and enrol its device; every answered request teaches the behaviour
 * baselines; a failed login feeds the credential-stuffing views. All of it is writes the next
 * request reads — nothing here delays this response.
 */
import { emptyProfile, learn } from '../behaviour/profile.ts';
import type { Decision } from '../decision/decide.ts';
import type { Scored } from '../evaluate.ts';
import type { CompiledPolicy } from '../policy/compiled-policy.ts';
import { featuresOf } from '../signals/behaviour.ts';
import type { StateStore } from '../state/state-store.ts';

export interface Answer {
  /** The app's status, or 0 when it did not answer (blocked by us, or unreachable). */
  status: number;
  bytes: number;
  /** True when the enforcer answered itself (challenge, restrict, deny). */
  blocked: boolean;
}

export function recordOutcome(
  policy: CompiledPolicy,
  scored: Scored,
  enforced: Decision,
  answer: Answer,
  state: StateStore,
): void {
  const { ctx } = scored;
  const subject = ctx.riskSubject;
  const login = ctx.route.login;
  // On a login route the risk subject is only the account being tried: until the app says the
  // password was right, the attempt is not the owner's and must not teach us anything about them.
  const owner = login
    ? answer.status > 0 && answer.status < 400 && !login.failureStatuses.has(answer.status)
    : true;
  if (subject !== undefined && answer.status !== 0 && owner && policy.behaviour) {
    const profile = scored.profile ?? emptyProfile();
    const features = featuresOf(ctx);
    const closedMinute = learn(profile, {
      now: ctx.now,
      route: ctx.route.name,
      status: answer.status,
      bytes: answer.bytes,
      features,
    });
    policy.behaviour.population.learn(features);
    if (closedMinute > 0) policy.behaviour.population.learnMinute(closedMinute);
    state.recordProfile(subject, profile, policy.behaviour.windowMs);
  }
  if (subject !== undefined && enforced === 'allow' && owner && answer.status > 0 && answer.status < 400) {
    if (policy.device && ctx.device.id !== undefined) state.recordDevice(subject, ctx.device.id);
    const loc = ctx.location;
    if (policy.tracksVelocity && !Number.isNaN(loc.latitude)) {
      state.recordSeen(subject, {
        latitude: loc.latitude,
        longitude: loc.longitude,
        accuracyKm: loc.accuracyKm,
        asn: loc.asn,
        at: ctx.now,
      });
    }
  }
  // A login attempt we blocked counts like a failed one: an attack that keeps hammering after
  // its first challenge keeps the views hot instead of sliding out of the window.
  const stuffing = policy.credentialStuffing;
  if (login && stuffing && (answer.blocked || login.failureStatuses.has(answer.status))) {
    state.recordLoginFailure(ctx, stuffing.settings.windowMs);
  }
}
