/**
 * The request path, in order: context → signals → score → decision → action → outcome.
 * Each stage is a small module; this file only strings them together.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type ProblemCode, sendProblem } from './actions/problem.ts';
import { difficultyFor, POW_HEADER, type ProofOfWork } from './actions/proof-of-work.ts';
import { stepUpChallengeHeader, stepUpSatisfied } from './actions/step-up.ts';
import { ForwardedHeaderError } from './context/client-ip.ts';
import { identify, unmetRequirement } from './context/identify.ts';
import { type LoginAttemptReader, readBody } from './context/login-attempt.ts';
import { ANONYMOUS, type RequestContext, type Subject } from './context/request-context.ts';
import { type Decision, decide, scoreOf } from './decision/decide.ts';
import type { DecisionLog, DecisionRecord } from './observability/decision-log.ts';
import type { EnforcerMetrics } from './observability/metrics.ts';
import type { CompiledPolicy } from './policy/compiled-policy.ts';
import type { Upstream } from './proxy/upstream.ts';
import { parseRequestTarget, RequestTargetError } from './routing/request-target.ts';
import type { Contribution } from './signals/signal.ts';
import type { StateStore } from './state/state-store.ts';

export const MAX_URL_LENGTH = 8192;

export interface RequestPathDeps {
  policy: () => CompiledPolicy | undefined;
  upstream: Upstream;
  state: StateStore;
  metrics: EnforcerMetrics;
  log: DecisionLog;
  pow: ProofOfWork;
  logins: LoginAttemptReader;
}

/** Per-request record, kept on the request for the decision log written after the response. */
export interface RequestRecord extends DecisionRecord {}

declare module 'fastify' {
  interface FastifyRequest {
    riskgate: RequestRecord | null;
  }
}

function newRecord(requestId: string, method: string, path: string): RequestRecord {
  return {
    requestId,
    policy: '',
    route: '',
    method,
    path,
    client: '',
    subject: undefined,
    score: 0,
    decision: 'allow',
    action: 'allow',
    reasons: [],
    status: 0,
    decisionUs: 0,
  };
}

export function createRequestHandler(deps: RequestPathDeps) {
  const { upstream, state, metrics, pow, logins } = deps;

  return async function handle(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const started = performance.now();
    const raw = request.raw;
    const requestId = request.id;
    const record = newRecord(requestId, raw.method ?? '', '');
    request.riskgate = record;

    const policy = deps.policy();
    if (!policy) {
      record.action = 'unavailable';
      sendProblem(reply, 'RG_ERR_NOT_READY', requestId, { headers: { 'retry-after': '5' } });
      return;
    }
    record.policy = policy.name;
    const monitor = policy.mode === 'monitor';
    const refuse = (code: ProblemCode, reason: string, headers?: Record<string, string>) => {
      record.action = 'refuse';
      record.reasons.push(reason);
      metrics.rules.inc({ policy: policy.name, route: record.route || 'none', code });
      sendProblem(reply, code, requestId, headers ? { headers } : {});
    };

    // 1. Context: target, client, route, subject.
    const url = raw.url ?? '/';
    if (url.length > MAX_URL_LENGTH) return refuse('RG_ERR_URI_TOO_LONG', 'request.uri_too_long');
    let target: { path: string; query: string };
    try {
      target = parseRequestTarget(url);
    } catch (err) {
      if (err instanceof RequestTargetError) return refuse('RG_ERR_BAD_REQUEST_TARGET', 'request.bad_target');
      throw err;
    }
    record.path = target.path;
    let client: RequestContext['client'];
    try {
      client = policy.clientIp.resolve(raw.socket.remoteAddress, raw.headers[policy.clientIp.headerName]);
    } catch (err) {
      if (err instanceof ForwardedHeaderError) return refuse('RG_ERR_BAD_FORWARDED', 'request.bad_forwarded');
      throw err;
    }
    record.client = client.ip;
    const route = policy.routes.match(raw.method ?? 'GET', target.path);
    record.route = route.name;

    let identified = identify(policy, raw.headers);
    if (identified instanceof Promise) identified = await identified;
    let subject: Subject;
    if (identified.rejected) {
      const bearer = identified.rejected === 'RG_ERR_INVALID_TOKEN';
      if (!monitor) {
        return refuse(
          identified.rejected,
          identified.reason,
          bearer ? { 'www-authenticate': 'Bearer realm="riskgate", error="invalid_token"' } : undefined,
        );
      }
      record.reasons.push(identified.reason);
      subject = ANONYMOUS;
    } else {
      subject = identified.subject;
    }
    record.subject = subject.id;

    // Rules, not risk: authentication and authorization the route requires.
    if (route.authRequired && subject.kind === 'anonymous' && !monitor) {
      return refuse('RG_ERR_UNAUTHENTICATED', 'auth.required', {
        'www-authenticate': 'Bearer realm="riskgate"',
      });
    }
    if (
      subject.kind !== 'anonymous' &&
      unmetRequirement(subject, route.requiredScopes, route.requiredClaims)
    ) {
      if (!monitor) {
        return refuse('RG_ERR_INSUFFICIENT_SCOPE', 'auth.insufficient_scope', {
          'www-authenticate': 'Bearer realm="riskgate", error="insufficient_scope"',
        });
      }
      record.reasons.push('auth.insufficient_scope');
    }

    let body: Buffer | undefined;
    let login: RequestContext['login'];
    if (route.login) {
      try {
        body = await readBody(raw);
      } catch (err) {
        if ((err as { code?: string }).code === 'RG_ERR_BODY_TOO_LARGE') {
          return refuse('RG_ERR_BODY_TOO_LARGE', 'request.body_too_large');
        }
        record.action = 'aborted';
        return;
      }
      login = logins.read(
        body,
        raw.headers['content-type'],
        route.login.accountField,
        route.login.passwordField,
      );
    }

    const ctx: RequestContext = {
      requestId,
      method: raw.method ?? 'GET',
      path: target.path,
      query: target.query,
      client,
      route,
      subject,
      userAgent: (raw.headers['user-agent'] as string | undefined) ?? '',
      login,
      now: Date.now(),
    };

    // 2–4. Signals, score, decision. Allow-lists win over every signal.
    const allowListed =
      policy.allowCidrs.has(client.family, client.words) ||
      (subject.id !== undefined && policy.allowSubjects.has(subject.id));
    const contributions: Contribution[] = [];
    if (!allowListed) {
      for (const signal of policy.signals) signal.evaluate(ctx, state, contributions);
    }
    const score = scoreOf(contributions);
    let decision: Decision = allowListed ? 'allow' : decide(score, route.thresholds);
    record.score = score;
    record.decision = decision;
    for (const c of contributions) {
      record.reasons.push(c.code);
      metrics.signalHits.inc({ signal: c.code.split('.')[0]!, reason: c.code });
    }
    if (allowListed) record.reasons.push('allowlist');

    // A challenge the client already met lets the request through.
    const challenge = policy.actions.challenge;
    const stepUp = challenge.kind === 'step-up' || (challenge.kind === 'auto' && subject.kind === 'token');
    let powDifficulty = 0;
    if (decision === 'challenge') {
      if (stepUp) {
        if (subject.kind === 'token' && stepUpSatisfied(subject.claims, challenge, ctx.now)) {
          decision = 'allow';
          metrics.challengesPassed.inc({ kind: 'step-up' });
        }
      } else {
        powDifficulty = difficultyFor(
          score,
          route.thresholds.challenge,
          challenge.minDifficulty,
          challenge.maxDifficulty,
        );
        const answer = raw.headers[POW_HEADER];
        if (typeof answer === 'string' && pow.verify(answer, client.ip, powDifficulty, ctx.now)) {
          decision = 'allow';
          metrics.challengesPassed.inc({ kind: 'proof-of-work' });
        }
      }
    }
    const decisionMs = performance.now() - started;
    record.decisionUs = Math.round(decisionMs * 1000);
    metrics.decisionSeconds.observe(decisionMs / 1000);
    metrics.score.observe({ policy: policy.name }, score);
    metrics.decisions.inc({
      policy: policy.name,
      route: route.name,
      decision: record.decision,
      mode: policy.mode,
    });

    // 5. Action.
    const enforced: Decision = monitor ? 'allow' : decision;
    record.action = enforced;
    if (enforced === 'deny') {
      const deny = policy.actions.deny;
      const headers =
        deny.retryAfterSeconds === undefined ? undefined : { 'retry-after': String(deny.retryAfterSeconds) };
      sendProblem(reply, 'RG_ERR_DENIED', requestId, {
        status: deny.status,
        ...(headers ? { headers } : {}),
      });
      return;
    }
    if (enforced === 'challenge') {
      if (stepUp) {
        sendProblem(reply, 'RG_ERR_STEP_UP_REQUIRED', requestId, {
          headers: { 'www-authenticate': stepUpChallengeHeader(challenge) },
        });
      } else {
        const issued = pow.issue(client.ip, powDifficulty, challenge.ttlMs, ctx.now);
        sendProblem(reply, 'RG_ERR_PROOF_OF_WORK_REQUIRED', requestId, {
          headers: {
            'www-authenticate': `PoW realm="riskgate", algorithm="sha-256", difficulty="${issued.difficulty}", challenge="${issued.challenge}"`,
          },
          extra: {
            proofOfWork: {
              algorithm: 'sha-256',
              challenge: issued.challenge,
              difficulty: issued.difficulty,
              answerHeader: POW_HEADER,
              instructions:
                'Find a string s such that SHA-256("<challenge>:<s>") has <difficulty> leading zero bits, then repeat the request with header x-riskgate-pow: <challenge>:<s>.',
            },
          },
        });
      }
      return;
    }
    if (enforced === 'restrict') {
      const r = policy.actions.restrict;
      if (!r.allowedMethods.has(ctx.method)) {
        sendProblem(reply, 'RG_ERR_RESTRICTED', requestId);
        return;
      }
      const key = `${policy.name}:${subject.id ?? client.ip}`;
      if (state.rateLimitHit(key, r.windowMs, ctx.now) > r.limit) {
        record.action = 'rate_limited';
        sendProblem(reply, 'RG_ERR_RATE_LIMITED', requestId, {
          headers: { 'retry-after': String(Math.ceil(r.windowMs / 1000)) },
        });
        return;
      }
    }

    const extra: Record<string, string> = {
      'x-riskgate-score': String(score),
      'x-riskgate-decision': monitor ? 'allow' : decision,
      'x-riskgate-request-id': requestId,
    };
    if (monitor) extra['x-riskgate-shadow-decision'] = decision;
    if (subject.id !== undefined) extra['x-riskgate-subject'] = subject.id;
    const result = await upstream.forward(raw, reply, target.path + target.query, extra, requestId, body);
    metrics.upstreamSeconds.observe(
      { status_class: result.status === 0 ? 'error' : `${(result.status / 100) | 0}xx` },
      result.headersMs / 1000,
    );

    // 6. Outcome: a failed login feeds the credential-stuffing views.
    if (route.login && policy.credentialStuffing && route.login.failureStatuses.has(result.status)) {
      state.recordLoginFailure(ctx, policy.credentialStuffing.settings.windowMs);
    }
  };
}
