/**
 * The request path over HTTP: evaluate (context → signals → score → decision), then act on the
 * decision, forward to the app, and feed the outcome back into the state.
 */

import { challengePage, isNavigation, languageOf } from './actions/challenge-page.ts';
import { isGrpc } from './actions/grpc-status.ts';
import { sendProblem } from './actions/problem.ts';
import {
  CLEARANCE_COOKIE,
  ESCALATION_WINDOW_MS,
  escalatedDifficulty,
  POW_COOKIE,
  POW_HEADER,
  type ProofOfWork,
} from './actions/proof-of-work.ts';
import { stepUpChallengeHeader } from './actions/step-up.ts';
import type { LoginAttemptReader } from './context/login-attempt.ts';
import { type BodyBudget, readBody } from './context/read-body.ts';
import type { Decision } from './decision/decide.ts';
import { type Evaluation, evaluate, powBinding, powClient, type Scored } from './evaluate.ts';
import type { Reply, TrafficRequest } from './listener/reply.ts';
import type { DecisionLog, DecisionRecord } from './observability/decision-log.ts';
import type { EnforcerMetrics } from './observability/metrics.ts';
import { recordOutcome } from './outcome/record-outcome.ts';
import type { CompiledPolicy } from './policy/compiled-policy.ts';
import { headerSafe } from './proxy/headers.ts';
import type { Forwarder } from './proxy/upstream.ts';
import { upgradeOf, type WebSocketTunnel } from './proxy/websocket-tunnel.ts';
import type { StateStore } from './state/state-store.ts';

export interface RequestPathDeps {
  policy: () => CompiledPolicy | undefined;
  upstream: Forwarder;
  /** Where allowed WebSocket upgrades go. */
  tunnel: WebSocketTunnel;
  state: StateStore;
  metrics: EnforcerMetrics;
  log: DecisionLog;
  pow: ProofOfWork;
  logins: LoginAttemptReader;
  /** What login bodies being read may hold at once. */
  bodies: BodyBudget;
  clock: () => number;
}

const POW_INSTRUCTIONS =
  'Find a string s such that SHA-256("<challenge>:<s>") has <difficulty> leading zero bits, then repeat the request with header x-riskgate-pow: <challenge>:<s>.';

/** A proof-of-work challenge: the page for a browser's navigation, the problem document otherwise. */
function sendProofOfWork(
  policy: CompiledPolicy,
  scored: Scored,
  difficulty: number,
  reply: Reply,
  deps: RequestPathDeps,
): void {
  const { ctx } = scored;
  const requestId = ctx.requestId;
  const challenge = policy.actions.challenge;
  const issued = deps.pow.issue(powBinding(ctx), difficulty, challenge.ttlMs, ctx.now);
  const wwwAuthenticate = `PoW realm="riskgate", algorithm="sha-256", difficulty="${issued.difficulty}", challenge="${issued.challenge}"`;
  const headers = reply.request.raw.headers;
  if (isNavigation(ctx.method, headers) && !isGrpc(headers['content-type'] as string | undefined)) {
    // A person in a browser: the page solves it for them.
    const page = challengePage({
      challenge: issued.challenge,
      difficulty: issued.difficulty,
      ttlSeconds: Math.max(1, Math.floor(challenge.ttlMs / 1000)),
      method: ctx.method,
      lang: languageOf(headers['accept-language']),
      requestId,
    });
    reply
      .code(401)
      .headers({
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': page.csp,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'x-riskgate-request-id': requestId,
        'www-authenticate': wwwAuthenticate,
      })
      .send(page.html);
    return;
  }
  sendProblem(reply, 'RG_ERR_PROOF_OF_WORK_REQUIRED', requestId, {
    headers: { 'www-authenticate': wwwAuthenticate },
    extra: {
      proofOfWork: {
        algorithm: 'sha-256',
        challenge: issued.challenge,
        difficulty: issued.difficulty,
        answerHeader: POW_HEADER,
        instructions: POW_INSTRUCTIONS,
      },
    },
  });
}

/** Answers a request the decision stops; undefined lets it through. A promise only when a shared rate limit is asked. */
function act(
  policy: CompiledPolicy,
  scored: Scored,
  enforced: Decision,
  reply: Reply,
  deps: RequestPathDeps,
): string | undefined | Promise<string | undefined> {
  const { ctx } = scored;
  const requestId = ctx.requestId;
  if (enforced === 'deny') {
    const deny = policy.actions.deny;
    sendProblem(reply, 'RG_ERR_DENIED', requestId, {
      status: deny.status,
      ...(deny.retryAfterSeconds === undefined
        ? {}
        : { headers: { 'retry-after': String(deny.retryAfterSeconds) } }),
    });
    return 'deny';
  }
  if (enforced === 'challenge') {
    const challenge = policy.actions.challenge;
    if (scored.challengeKind === 'step-up') {
      sendProblem(reply, 'RG_ERR_STEP_UP_REQUIRED', requestId, {
        headers: { 'www-authenticate': stepUpChallengeHeader(challenge) },
      });
      return 'challenge';
    }
    // The cost follows the client's persistence: each doubling of the challenges it was given in
    // the last ten minutes adds a bit. A person passes once (and keeps a clearance); a script that
    // keeps coming back pays more each time.
    const issuedBefore = deps.state.rateLimitHit(
      `pow-issued:${policy.name}:${powClient(ctx)}`,
      ESCALATION_WINDOW_MS,
      ctx.now,
    );
    const send = (count: number) => {
      const difficulty = escalatedDifficulty(scored.powDifficulty, count, challenge.maxDifficulty);
      sendProofOfWork(policy, scored, difficulty, reply, deps);
      return 'challenge';
    };
    return issuedBefore instanceof Promise ? issuedBefore.then(send, () => send(1)) : send(issuedBefore);
  }
  if (enforced === 'restrict') {
    const r = policy.actions.restrict;
    if (!r.allowedMethods.has(ctx.method)) {
      sendProblem(reply, 'RG_ERR_RESTRICTED', requestId);
      return 'restrict';
    }
    const key = `${policy.name}:${ctx.subject.id ?? ctx.client.key}`;
    const limited = (hits: number): string | undefined => {
      if (hits <= r.limit) return undefined;
      sendProblem(reply, 'RG_ERR_RATE_LIMITED', requestId, {
        headers: { 'retry-after': String(Math.ceil(r.windowMs / 1000)) },
      });
      return 'rate_limited';
    };
    const hits = deps.state.rateLimitHit(key, r.windowMs, ctx.now);
    return hits instanceof Promise ? hits.then(limited) : limited(hits);
  }
  return undefined;
}

/** The decision log line of a request answered before any score: not ready, or refused by a rule. */
function unscoredRecord(
  requestId: string,
  method: string | undefined,
  status: number,
  fields: Partial<DecisionRecord> & { action: string },
): DecisionRecord {
  return {
    requestId,
    policy: '',
    route: '',
    method: method ?? '',
    path: '',
    client: '',
    subject: undefined,
    score: 0,
    decision: 'allow',
    reasons: [],
    status,
    decisionUs: 0,
    ...fields,
  };
}

/** The decision log line of a scored request; built only when the log will write it. */
function scoredRecord(
  policy: CompiledPolicy,
  evaluation: Scored,
  action: string,
  status: number,
  decisionUs: number,
): DecisionRecord {
  const { ctx } = evaluation;
  const reasons: string[] = [];
  for (const c of evaluation.contributions) reasons.push(c.code);
  for (const r of evaluation.shadowReasons) reasons.push(r);
  if (evaluation.allowListed) reasons.push('allowlist');
  if (evaluation.degraded) reasons.push('state.degraded');
  return {
    requestId: ctx.requestId,
    policy: policy.name,
    route: ctx.route.name,
    method: ctx.method,
    path: ctx.path,
    client: ctx.client.ip,
    subject: ctx.subject.id,
    score: evaluation.score,
    decision: evaluation.decision,
    action,
    reasons,
    status,
    decisionUs,
  };
}

/**
 * The route handler. It runs synchronously as far as it can: a request answered by the enforcer
 * itself returns nothing (the reply is sent); a forwarded one returns a promise of the reply,
 * settled once the app's answer is on its way to the client.
 */
export function createRequestHandler(deps: RequestPathDeps) {
  const { upstream, state, metrics, log } = deps;

  /** Forwards an allowed request and feeds what the app answered back into the state. */
  function forward(
    policy: CompiledPolicy,
    evaluation: Scored,
    enforced: Decision,
    decisionMs: number,
    raw: TrafficRequest['raw'],
    reply: Reply,
  ): Promise<Reply> {
    const { ctx, score, decision } = evaluation;
    const headers: Record<string, string> = {
      'x-riskgate-score': String(score),
      'x-riskgate-decision': enforced,
      'x-riskgate-request-id': ctx.requestId,
    };
    if (policy.mode === 'monitor') headers['x-riskgate-shadow-decision'] = evaluation.effective;
    if (ctx.subject.id !== undefined) headers['x-riskgate-subject'] = headerSafe(ctx.subject.id);
    if (evaluation.clearance !== undefined) {
      // The browser solved the challenge page: it passes for a while, and the spent answer goes.
      reply.header('set-cookie', [
        `${CLEARANCE_COOKIE}=${evaluation.clearance}; Path=/; Max-Age=${Math.floor(policy.actions.challenge.clearanceMs / 1000)}; HttpOnly; SameSite=Lax`,
        `${POW_COOKIE}=; Path=/; Max-Age=0; SameSite=Strict`,
      ]);
    }
    const to = upgradeOf(raw) === undefined ? upstream : deps.tunnel;
    return to
      .forward(raw, reply, ctx.path + ctx.query, headers, ctx.requestId, policy.headerRules, evaluation.body)
      .then((result) => {
        metrics.observeUpstream(result.status, result.headersMs / 1000);
        recordOutcome(
          policy,
          evaluation,
          enforced,
          { status: result.status, bytes: Number(reply.getHeader('content-length') ?? 0), blocked: false },
          state,
        );
        if (log.wants(enforced, decision)) {
          log.write(
            scoredRecord(
              policy,
              evaluation,
              enforced,
              result.status === 101 ? 101 : reply.statusCode,
              Math.round(decisionMs * 1000),
            ),
          );
        }
        return reply;
      });
  }

  /** The enforcer answered the request itself (challenge, restrict, deny). */
  function answered(
    policy: CompiledPolicy,
    evaluation: Scored,
    enforced: Decision,
    action: string,
    decisionMs: number,
    reply: Reply,
  ): void {
    recordOutcome(policy, evaluation, enforced, { status: 0, bytes: 0, blocked: true }, state);
    if (log.wants(action, evaluation.decision)) {
      log.write(scoredRecord(policy, evaluation, action, reply.statusCode, Math.round(decisionMs * 1000)));
    }
  }

  function respond(
    policy: CompiledPolicy,
    evaluation: Evaluation,
    started: number,
    request: TrafficRequest,
    reply: Reply,
  ): Promise<Reply> | undefined {
    const requestId = request.id;
    if (evaluation.kind === 'refused') {
      const route = evaluation.route?.name ?? '';
      metrics.countRefusal(policy.name, route || 'none', evaluation.code);
      sendProblem(
        reply,
        evaluation.code,
        requestId,
        evaluation.headers ? { headers: evaluation.headers } : {},
      );
      log.write(
        unscoredRecord(requestId, request.raw.method, reply.statusCode, {
          policy: policy.name,
          route,
          client: evaluation.client ?? '',
          action: 'refuse',
          reasons: [evaluation.reason],
        }),
      );
      return undefined;
    }

    const { ctx, score, decision } = evaluation;
    for (const c of evaluation.contributions) metrics.countSignal(c.code);
    if (evaluation.challengePassed) metrics.countChallengePassed(evaluation.challengePassed);
    const decisionMs = performance.now() - started;
    metrics.countDecision(policy, ctx.route, decision, score, decisionMs / 1000);

    const enforced: Decision = policy.mode === 'monitor' ? 'allow' : evaluation.effective;
    if (enforced === 'allow') return forward(policy, evaluation, enforced, decisionMs, request.raw, reply);
    const settle = (action: string | undefined): Promise<Reply> | undefined => {
      if (action === undefined) return forward(policy, evaluation, enforced, decisionMs, request.raw, reply);
      answered(policy, evaluation, enforced, action, decisionMs, reply);
      return undefined;
    };
    const action = act(policy, evaluation, enforced, reply, deps);
    return action instanceof Promise ? action.then((a) => settle(a) ?? reply) : settle(action);
  }

  return function handle(request: TrafficRequest, reply: Reply): Promise<Reply> | undefined {
    const started = performance.now();
    const raw = request.raw;
    const requestId = request.id;

    const policy = deps.policy();
    if (!policy) {
      sendProblem(reply, 'RG_ERR_NOT_READY', requestId, { headers: { 'retry-after': '5' } });
      log.write(unscoredRecord(requestId, raw.method, reply.statusCode, { action: 'unavailable' }));
      return undefined;
    }

    const evaluation = evaluate(
      policy,
      {
        requestId,
        method: raw.method ?? 'GET',
        url: raw.url ?? '/',
        socketAddress: raw.socket.remoteAddress,
        headers: raw.headers,
        httpVersion: raw.httpVersion,
        readBody: (client) => readBody(raw, { budget: deps.bodies, client }),
        now: deps.clock(),
      },
      deps,
    );
    if (!(evaluation instanceof Promise)) return respond(policy, evaluation, started, request, reply);
    return evaluation.then(
      (e) => respond(policy, e, started, request, reply) ?? reply,
      (err: unknown) => {
        // The client went away mid-body: nothing to answer, nothing decided.
        if (raw.destroyed || raw.aborted) return reply;
        throw err;
      },
    );
  };
}
