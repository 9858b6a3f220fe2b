/**
 * Context → signals → score → decision for one request, independent of HTTP plumbing, so that
 * the enforcer and `riskgate explain` run exactly the same code.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ProblemCode } from './actions/problem.ts';
import {
  CLEARANCE_COOKIE,
  cookieValue,
  difficultyFor,
  hasClearance,
  issueClearance,
  POW_COOKIE,
  POW_HEADER,
  type ProofOfWork,
} from './actions/proof-of-work.ts';
import { stepUpSatisfied } from './actions/step-up.ts';
import { type ClientAddress, ForwardedHeaderError } from './context/client-ip.ts';
import { type Identified, identify, unmetRequirement } from './context/identify.ts';
import type { LoginAttemptReader } from './context/login-attempt.ts';
import { LoginBodyError } from './context/login-body.ts';
import { BodyReadError } from './context/read-body.ts';
import { ANONYMOUS, type RequestContext } from './context/request-context.ts';
import { type DeviceContext, identifyDevice, NO_DEVICE } from './credentials/device.ts';
import { type Decision, decideContributions, scoreOf } from './decision/decide.ts';
import { type ClientLocation, UNKNOWN_LOCATION } from './geo/geo-lookup.ts';
import type { CompiledPolicy, CompiledRoute } from './policy/compiled-policy.ts';
import { withoutMethodParameter } from './routing/method-override.ts';
import { parseRequestTarget, type RequestTarget, RequestTargetError } from './routing/request-target.ts';
import type { Contribution } from './signals/signal.ts';
import { StatePlan, type StateView } from './state/slots.ts';
import type { Claim, StateStore } from './state/state-store.ts';

export const MAX_URL_LENGTH = 8192;

const NO_SLOTS: readonly unknown[] = Object.freeze([]);

export interface RequestInput {
  requestId: string;
  method: string;
  url: string;
  socketAddress: string | undefined;
  headers: IncomingHttpHeaders;
  /** `1.0`, `1.1` or `2.0`; 1.1 when not given. */
  httpVersion?: string;
  /** Reads the body, as `client` (its share of the bodies being read); only on login routes. */
  readBody: (client: string) => Promise<Buffer>;
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
  challengePassed: 'step-up' | 'proof-of-work' | 'clearance' | undefined;
  /** A clearance cookie to give the browser that just solved the challenge page. */
  clearance: string | undefined;
  /** How a challenge is put to this client. */
  challengeKind: 'step-up' | 'proof-of-work';
  powDifficulty: number;
  /** Rule findings recorded instead of enforced (monitor mode). */
  shadowReasons: string[];
  /** Shared state was unavailable and local state decided (failMode open). */
  degraded: boolean;
  /** What each signal's scoring handed on to its learning, by signal index. */
  memos: readonly unknown[];
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
  if (!policy.geo || client.hidden) return UNKNOWN_LOCATION;
  if (client.location === undefined) client.location = policy.geo.locate(client.ip, client.family);
  return client.location;
}

function refusal(
  code: ProblemCode,
  reason: string,
  route: CompiledRoute | undefined,
  client: string | undefined,
  headers?: Record<string, string>,
): Refusal {
  return headers
    ? { kind: 'refused', code, reason, route, client, headers }
    : { kind: 'refused', code, reason, route, client };
}

/** One request on its way through the stages below. */
interface Run {
  policy: CompiledPolicy;
  input: RequestInput;
  deps: EvaluateDeps;
  ctx: RequestContext;
  /** Rule findings recorded instead of enforced (monitor mode). */
  shadowReasons: string[];
  body: Buffer | undefined;
}

/*
 * The stages below run synchronously and hand over a promise only where one is really waited
 * for (a token seen for the first time, a login body, a shared-state round trip): the common
 * request is decided without an async frame, a promise or a microtask of its own.
 */

export function evaluate(
  policy: CompiledPolicy,
  input: RequestInput,
  deps: EvaluateDeps,
): Evaluation | Promise<Evaluation> {
  // Context.
  if (input.url.length > MAX_URL_LENGTH) {
    return refusal('RG_ERR_URI_TOO_LONG', 'request.uri_too_long', undefined, undefined);
  }
  let target: RequestTarget;
  try {
    target = parseRequestTarget(input.url, policy.requestHandling.pathParameters);
  } catch (err) {
    if (err instanceof RequestTargetError) {
      return refusal('RG_ERR_BAD_REQUEST_TARGET', 'request.bad_target', undefined, undefined);
    }
    throw err;
  }
  let client: ClientAddress;
  try {
    client = policy.clientIp.resolve(input.socketAddress, input.headers[policy.clientIp.headerName]);
  } catch (err) {
    if (err instanceof ForwardedHeaderError) {
      return refusal('RG_ERR_BAD_FORWARDED', 'request.bad_forwarded', undefined, undefined);
    }
    throw err;
  }
  const route = policy.routes.matchStrictest(input.method, target.path, target.alternates);
  if (route.allowedMethods !== undefined && policy.mode !== 'monitor') {
    return refusal('RG_ERR_METHOD_NOT_ALLOWED', 'request.method_not_allowed', route, client.ip, {
      allow: route.allowedMethods,
    });
  }
  const userAgent = input.headers['user-agent'];
  // Filled in as the stages learn each part: subject, login, device, location.
  const ctx: RequestContext = {
    requestId: input.requestId,
    method: input.method,
    path: target.path,
    query: policy.requestHandling.dropMethodParameter ? withoutMethodParameter(target.query) : target.query,
    client,
    location: UNKNOWN_LOCATION,
    route,
    subject: ANONYMOUS,
    riskSubject: undefined,
    device: NO_DEVICE,
    userAgent: typeof userAgent === 'string' ? userAgent : '',
    headers: input.headers,
    httpVersion: input.httpVersion ?? '1.1',
    login: undefined,
    now: input.now,
  };
  const run: Run = { policy, input, deps, ctx, shadowReasons: [], body: undefined };
  if (route.allowedMethods !== undefined) run.shadowReasons.push('request.method_not_allowed');
  const identified = identify(policy, input.headers);
  return identified instanceof Promise
    ? identified.then((id) => afterIdentity(run, id))
    : afterIdentity(run, identified);
}

/** Rules, not risk: what the route requires of the subject; then the login body if it has one. */
function afterIdentity(run: Run, identified: Identified): Evaluation | Promise<Evaluation> {
  const { policy, input, ctx, shadowReasons } = run;
  const monitor = policy.mode === 'monitor';
  const route = ctx.route;
  if (identified.rejected) {
    if (!monitor) {
      const bearer = identified.rejected === 'RG_ERR_INVALID_TOKEN';
      return refusal(
        identified.rejected,
        identified.reason,
        route,
        ctx.client.ip,
        bearer ? { 'www-authenticate': 'Bearer realm="riskgate", error="invalid_token"' } : undefined,
      );
    }
    shadowReasons.push(identified.reason);
  } else {
    ctx.subject = identified.subject;
  }
  const subject = ctx.subject;

  // A CORS preflight never carries credentials (Fetch standard): asking it to authenticate
  // would break every cross-origin call to the route.
  const preflight =
    input.method === 'OPTIONS' && input.headers['access-control-request-method'] !== undefined;
  if (route.authRequired && subject.kind === 'anonymous' && !preflight) {
    if (!monitor) {
      return refusal('RG_ERR_UNAUTHENTICATED', 'auth.required', route, ctx.client.ip, {
        'www-authenticate': 'Bearer realm="riskgate"',
      });
    }
    shadowReasons.push('auth.required');
  }
  if (subject.kind !== 'anonymous' && unmetRequirement(subject, route.requiredScopes, route.requiredClaims)) {
    if (!monitor) {
      return refusal('RG_ERR_INSUFFICIENT_SCOPE', 'auth.insufficient_scope', route, ctx.client.ip, {
        'www-authenticate': 'Bearer realm="riskgate", error="insufficient_scope"',
      });
    }
    shadowReasons.push('auth.insufficient_scope');
  }

  const login = route.login;
  if (!login) return withDevice(run);
  // A CORS preflight carries no attempt, and its body is not read.
  if (preflight) return withDevice(run);
  const headers = input.headers;
  const authorization = headers['authorization'];
  const refuse = (err: unknown): Evaluation | Promise<Evaluation> => {
    // The rest of a body not read would have to be read to keep the connection: close it.
    if (err instanceof BodyReadError)
      return refusal(err.code, err.reason, route, ctx.client.ip, { connection: 'close' });
    if (!(err instanceof LoginBodyError)) throw err;
    // An attempt the enforcer cannot read is refused, never taken for one without an account.
    if (policy.mode !== 'monitor') return refusal(err.code, err.reason, route, ctx.client.ip);
    shadowReasons.push(err.reason);
    return withDevice(run);
  };
  return input.readBody(ctx.client.key === '' ? ctx.client.ip : ctx.client.key).then((body) => {
    run.body = body;
    let attempt: ReturnType<LoginAttemptReader['read']>;
    try {
      attempt = run.deps.logins.read(
        {
          body,
          contentType: header(headers['content-type']),
          contentEncoding: header(headers['content-encoding']),
          query: ctx.query,
          authorization: typeof authorization === 'string' ? authorization : undefined,
        },
        login.accountField,
        login.passwordField,
      );
    } catch (err) {
      return refuse(err);
    }
    if (attempt instanceof Promise) {
      return attempt.then((a) => {
        ctx.login = a;
        return withDevice(run);
      }, refuse);
    }
    ctx.login = attempt;
    return withDevice(run);
  }, refuse);
}

/** A header that must occur once: its value, or the values joined as a proxy would. */
function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function withDevice(run: Run): Evaluation | Promise<Evaluation> {
  const { policy, input } = run;
  const device = policy.device ? identifyDevice(policy.device, input.headers) : NO_DEVICE;
  return device instanceof Promise ? device.then((d) => withState(run, d)) : withState(run, device);
}

/** One read of everything the signals plan: at most one round trip to shared state. */
function withState(run: Run, device: DeviceContext): Evaluation | Promise<Evaluation> {
  const { policy, ctx } = run;
  ctx.device = device;
  ctx.riskSubject = ctx.subject.id ?? ctx.login?.account;
  ctx.location = locationOf(policy, ctx.client);
  // Allow-lists win over every signal: no state is read for them.
  const allowListed =
    (!ctx.client.hidden && policy.allowCidrs.has(ctx.client.family, ctx.client.words)) ||
    (ctx.subject.id !== undefined && policy.allowSubjects.has(ctx.subject.id));
  if (allowListed) return decideWith(run, undefined, undefined);
  const signals = policy.signals;
  const plan = new StatePlan();
  // Most requests plan nothing (no subject, not a login): no array for them.
  const planners = policy.planners;
  let slots: unknown[] | undefined;
  for (let p = 0; p < planners.length; p++) {
    const i = planners[p]!;
    const planned = signals[i]!.plan!(ctx, plan);
    if (planned === undefined) continue;
    slots ??= new Array(signals.length);
    slots[i] = planned;
  }
  const view = run.deps.state.read(plan, ctx.now);
  return view instanceof Promise ? view.then((v) => decideWith(run, v, slots)) : decideWith(run, view, slots);
}

/** Signals, score, decision; `view` is undefined for an allow-listed request. */
function decideWith(
  run: Run,
  view: StateView | undefined,
  slots: readonly unknown[] | undefined,
): Evaluation | Promise<Evaluation> {
  const { policy, input, deps, ctx } = run;
  const route = ctx.route;
  const subject = ctx.subject;
  const allowListed = view === undefined;
  const contributions: Contribution[] = [];
  let memos: readonly unknown[] = NO_SLOTS;
  let degraded = false;
  if (view !== undefined) {
    if (view.degraded) {
      degraded = true;
      if (route.failMode === 'closed' && policy.mode !== 'monitor') {
        return refusal('RG_ERR_STATE_UNAVAILABLE', 'state.unavailable', route, ctx.client.ip, {
          'retry-after': '5',
        });
      }
    }
    const signals = policy.signals;
    let learned: unknown[] | undefined;
    for (let i = 0; i < signals.length; i++) {
      const memo = signals[i]!.score(ctx, view, slots?.[i], contributions);
      if (memo === undefined) continue;
      learned ??= new Array(signals.length);
      learned[i] = memo;
    }
    if (learned !== undefined) memos = learned;
  }
  const score = scoreOf(contributions);
  const decision: Decision = allowListed ? 'allow' : decideContributions(contributions, route.thresholds);

  // A challenge the client has already met lets the request through.
  const challenge = policy.actions.challenge;
  const challengeKind =
    challenge.kind === 'step-up' || (challenge.kind === 'auto' && subject.kind === 'token')
      ? 'step-up'
      : 'proof-of-work';
  const scored: Scored = {
    kind: 'scored',
    ctx,
    contributions,
    score,
    decision,
    effective: decision,
    allowListed,
    challengePassed: undefined,
    clearance: undefined,
    challengeKind,
    powDifficulty: 0,
    shadowReasons: run.shadowReasons,
    degraded,
    memos,
    body: run.body,
  };
  if (decision !== 'challenge') return scored;
  if (challengeKind === 'step-up') {
    if (subject.kind === 'token' && stepUpSatisfied(subject.claims, challenge, ctx.now)) {
      scored.effective = 'allow';
      scored.challengePassed = 'step-up';
    }
    return scored;
  }
  scored.powDifficulty = difficultyFor(
    score,
    route.thresholds.challenge,
    challenge.minDifficulty,
    challenge.maxDifficulty,
  );
  // A browser that solved the page a while ago, from this address, at this difficulty or more.
  const client = powClient(ctx);
  const cookies = input.headers['cookie'];
  const cleared = cookieValue(cookies, CLEARANCE_COOKIE);
  if (cleared !== undefined && hasClearance(deps.pow, cleared, client, scored.powDifficulty, ctx.now)) {
    scored.effective = 'allow';
    scored.challengePassed = 'clearance';
    return scored;
  }
  const header = input.headers[POW_HEADER];
  const fromPage = typeof header !== 'string' ? cookieValue(cookies, POW_COOKIE) : undefined;
  const answer = typeof header === 'string' ? header : fromPage;
  const proof =
    answer !== undefined
      ? deps.pow.verify(answer, powBinding(ctx), scored.powDifficulty, ctx.now)
      : undefined;
  if (proof === undefined) return scored;
  // A solution is good once: claimed in shared state, so a sibling refuses it too. When shared
  // state cannot be asked, only this enforcer's claims were checked and a sibling might accept
  // the same solution: a failMode: closed route refuses rather than let it pass twice.
  const claimed = deps.state.claim(POW_SOLUTIONS, proof.nonce, proof.expiresAt - ctx.now, ctx.now);
  const settle = (claim: Claim): Scored | Refusal => {
    if (claim === 'local' && route.failMode === 'closed' && policy.mode !== 'monitor') {
      return refusal('RG_ERR_STATE_UNAVAILABLE', 'state.unavailable', route, ctx.client.ip, {
        'retry-after': '5',
      });
    }
    if (claim !== 'taken') {
      scored.effective = 'allow';
      scored.challengePassed = 'proof-of-work';
      if (fromPage !== undefined) {
        scored.clearance = issueClearance(
          deps.pow,
          client,
          scored.powDifficulty,
          challenge.clearanceMs,
          ctx.now,
        );
      }
    }
    return scored;
  };
  return claimed instanceof Promise ? claimed.then(settle) : settle(claimed);
}

/** The slot space of spent proof-of-work solutions. */
const POW_SOLUTIONS = 'pow';

/** What a proof of work is bound to: the route it was asked on and the client that must solve it. */
export function powBinding(ctx: RequestContext): string {
  return `${ctx.route.name}\u0000${powClient(ctx)}`;
}

/** The client a challenge or clearance belongs to: its address, or its IPv6 prefix. */
export function powClient(ctx: RequestContext): string {
  return ctx.client.key === '' ? ctx.client.ip : ctx.client.key;
}
