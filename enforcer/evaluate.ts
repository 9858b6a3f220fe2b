/**
 * Context → signals → score → decision for one request, independent of HTTP plumbing, so that
 * the enforcer and `riskgate explain` run exactly the same code.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ProblemCode } from './actions/problem.ts';
import { difficultyFor, POW_HEADER, type ProofOfWork } from './actions/proof-of-work.ts';
import { stepUpSatisfied } from './actions/step-up.ts';
import type { SubjectProfile } from './behaviour/profile.ts';
import { type ClientAddress, ForwardedHeaderError } from './context/client-ip.ts';
import { identify, unmetRequirement } from './context/identify.ts';
import type { LoginAttemptReader } from './context/login-attempt.ts';
import { ANONYMOUS, type RequestContext, type Subject } from './context/request-context.ts';
import { type Decision, decide, scoreOf } from './decision/decide.ts';
import { type ClientLocation, UNKNOWN_LOCATION } from './geo/geo-lookup.ts';
import { identifyDevice, NO_DEVICE } from './identity/device.ts';
import type { CompiledPolicy, CompiledRoute } from './policy/compiled-policy.ts';
import { parseRequestTarget, RequestTargetError } from './routing/request-target.ts';
import type { Contribution } from './signals/signal.ts';
import type { StateSnapshot, StateStore } from './state/state-store.ts';

export const MAX_URL_LENGTH = 8192;

export interface RequestInput {
  requestId: string;
  method: string;
  url: string;
  socketAddress: string | undefined;
  headers: IncomingHttpHeaders;
  /** Reads the body; called only on routes that must see it (login). */
  readBody: () => Promise<Buffer>;
  now: number;
}

/** A rule refused the request before any scoring. */
export interface Refusal {
  kind: 'refused';
  code: ProblemCode;
  reason: string;
  headers?: Record<string, string>;
  route: CompiledRoute | undefined;
  client: string | undefined;
}

export interface Scored {
  kind: 'scored';
  ctx: RequestContext;
  contributions: Contribution[];
  score: number;
  /** The decision from the score alone. */
  decision: Decision;
  /** After a met challenge: what the request earns. */
  effective: Decision;
  allowListed: boolean;
  challengePassed: 'step-up' | 'proof-of-work' | undefined;
  /** How a challenge is put to this client. */
  challengeKind: 'step-up' | 'proof-of-work';
  powDifficulty: number;
  /** Rule findings recorded instead of enforced (monitor mode). */
  shadowReasons: string[];
  /** Shared state was unavailable and local state decided (failMode open). */
  degraded: boolean;
  /** The subject's behaviour profile as read, to learn from once the app has answered. */
  profile: SubjectProfile | undefined;
  body: Buffer | undefined;
}

export type Evaluation = Refusal | Scored;

export interface EvaluateDeps {
  state: StateStore;
  pow: ProofOfWork;
  logins: LoginAttemptReader;
}

/** The client's location, looked up once per resolved address and kept with it. */
function locationOf(policy: CompiledPolicy, client: ClientAddress): ClientLocation {
  if (!policy.geo) return UNKNOWN_LOCATION;
  if (client.location === undefined) client.location = policy.geo.locate(client.ip, client.family);
  return client.location;
}

export async function evaluate(
  policy: CompiledPolicy,
  input: RequestInput,
  deps: EvaluateDeps,
): Promise<Evaluation> {
  const monitor = policy.mode === 'monitor';
  let route: CompiledRoute | undefined;
  let clientIp: string | undefined;
  const refuse = (code: ProblemCode, reason: string, headers?: Record<string, string>): Refusal => ({
    kind: 'refused',
    code,
    reason,
    route,
    client: clientIp,
    ...(headers ? { headers } : {}),
  });

  // Context.
  if (input.url.length > MAX_URL_LENGTH) return refuse('RG_ERR_URI_TOO_LONG', 'request.uri_too_long');
  let target: { path: string; query: string };
  try {
    target = parseRequestTarget(input.url);
  } catch (err) {
    if (err instanceof RequestTargetError) return refuse('RG_ERR_BAD_REQUEST_TARGET', 'request.bad_target');
    throw err;
  }
  let client: RequestContext['client'];
  try {
    client = policy.clientIp.resolve(input.socketAddress, input.headers[policy.clientIp.headerName]);
  } catch (err) {
    if (err instanceof ForwardedHeaderError) return refuse('RG_ERR_BAD_FORWARDED', 'request.bad_forwarded');
    throw err;
  }
  clientIp = client.ip;
  route = policy.routes.match(input.method, target.path);

  const shadowReasons: string[] = [];
  let identified = identify(policy, input.headers);
  if (identified instanceof Promise) identified = await identified;
  let subject: Subject;
  if (identified.rejected) {
    if (!monitor) {
      const bearer = identified.rejected === 'RG_ERR_INVALID_TOKEN';
      return refuse(
        identified.rejected,
        identified.reason,
        bearer ? { 'www-authenticate': 'Bearer realm="riskgate", error="invalid_token"' } : undefined,
      );
    }
    shadowReasons.push(identified.reason);
    subject = ANONYMOUS;
  } else {
    subject = identified.subject;
  }

  // Rules, not risk: what the route requires of the subject.
  if (route.authRequired && subject.kind === 'anonymous') {
    if (!monitor) {
      return refuse('RG_ERR_UNAUTHENTICATED', 'auth.required', {
        'www-authenticate': 'Bearer realm="riskgate"',
      });
    }
    shadowReasons.push('auth.required');
  }
  if (subject.kind !== 'anonymous' && unmetRequirement(subject, route.requiredScopes, route.requiredClaims)) {
    if (!monitor) {
      return refuse('RG_ERR_INSUFFICIENT_SCOPE', 'auth.insufficient_scope', {
        'www-authenticate': 'Bearer realm="riskgate", error="insufficient_scope"',
      });
    }
    shadowReasons.push('auth.insufficient_scope');
  }

  let body: Buffer | undefined;
  let login: RequestContext['login'];
  if (route.login) {
    try {
      body = await input.readBody();
    } catch (err) {
      if ((err as { code?: string }).code === 'RG_ERR_BODY_TOO_LARGE') {
        return refuse('RG_ERR_BODY_TOO_LARGE', 'request.body_too_large');
      }
      throw err;
    }
    login = deps.logins.read(
      body,
      input.headers['content-type'],
      route.login.accountField,
      route.login.passwordField,
    );
  }

  let device = policy.device ? identifyDevice(policy.device, input.headers) : NO_DEVICE;
  if (device instanceof Promise) device = await device;

  const ctx: RequestContext = {
    requestId: input.requestId,
    method: input.method,
    path: target.path,
    query: target.query,
    client,
    location: locationOf(policy, client),
    route,
    subject,
    riskSubject: subject.id ?? login?.account,
    device,
    userAgent: typeof input.headers['user-agent'] === 'string' ? input.headers['user-agent'] : '',
    login,
    now: input.now,
    features: undefined,
  };

  // Signals, score, decision. Allow-lists win over every signal.
  const allowListed =
    policy.allowCidrs.has(client.family, client.words) ||
    (subject.id !== undefined && policy.allowSubjects.has(subject.id));
  const contributions: Contribution[] = [];
  let degraded = false;
  let profile: SubjectProfile | undefined;
  if (!allowListed) {
    // One read of everything the signals need: at most one round trip to shared state.
    let snapshot: StateSnapshot | Promise<StateSnapshot> = deps.state.read(ctx, {
      loginWindowMs: route.login ? policy.credentialStuffing?.settings.windowMs : undefined,
      lastSeen: policy.tracksVelocity && ctx.riskSubject !== undefined,
      device: ctx.riskSubject !== undefined ? device.id : undefined,
      profile: policy.behaviour !== undefined && ctx.riskSubject !== undefined,
    });
    if (snapshot instanceof Promise) snapshot = await snapshot;
    if (snapshot.degraded) {
      degraded = true;
      if (route.failMode === 'closed' && !monitor) {
        return refuse('RG_ERR_STATE_UNAVAILABLE', 'state.unavailable', { 'retry-after': '5' });
      }
    }
    for (const signal of policy.signals) signal.evaluate(ctx, snapshot, contributions);
    profile = snapshot.profile;
  }
  const score = scoreOf(contributions);
  const decision: Decision = allowListed ? 'allow' : decide(score, route.thresholds);

  // A challenge the client has already met lets the request through.
  const challenge = policy.actions.challenge;
  const challengeKind =
    challenge.kind === 'step-up' || (challenge.kind === 'auto' && subject.kind === 'token')
      ? 'step-up'
      : 'proof-of-work';
  let effective = decision;
  let challengePassed: Scored['challengePassed'];
  let powDifficulty = 0;
  if (decision === 'challenge') {
    if (challengeKind === 'step-up') {
      if (subject.kind === 'token' && stepUpSatisfied(subject.claims, challenge, ctx.now)) {
        effective = 'allow';
        challengePassed = 'step-up';
      }
    } else {
      powDifficulty = difficultyFor(
        score,
        route.thresholds.challenge,
        challenge.minDifficulty,
        challenge.maxDifficulty,
      );
      const answer = input.headers[POW_HEADER];
      if (typeof answer === 'string' && deps.pow.verify(answer, client.ip, powDifficulty, ctx.now)) {
        effective = 'allow';
        challengePassed = 'proof-of-work';
      }
    }
  }

  return {
    kind: 'scored',
    ctx,
    contributions,
    score,
    decision,
    effective,
    allowListed,
    challengePassed,
    challengeKind,
    powDifficulty,
    shadowReasons,
    degraded,
    profile,
    body,
  };
}
