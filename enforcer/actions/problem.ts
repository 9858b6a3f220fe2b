/**
 * Every response the enforcer writes itself is an RFC 9457 problem document with a stable
 * `code` and the request id — and nothing about the policy, the score or the reasons.
 */
import type { FastifyReply } from 'fastify';

export const PROBLEMS = {
  RG_ERR_BAD_REQUEST_TARGET: [400, 'Bad Request'],
  RG_ERR_BAD_FORWARDED: [400, 'Bad Request'],
  RG_ERR_BAD_BODY: [400, 'Bad Request'],
  RG_ERR_LOGIN_BODY: [400, 'Bad Request'],
  RG_ERR_UNAUTHENTICATED: [401, 'Unauthorized'],
  RG_ERR_INVALID_TOKEN: [401, 'Unauthorized'],
  RG_ERR_INVALID_API_KEY: [401, 'Unauthorized'],
  RG_ERR_STEP_UP_REQUIRED: [401, 'Unauthorized'],
  RG_ERR_PROOF_OF_WORK_REQUIRED: [401, 'Unauthorized'],
  RG_ERR_INSUFFICIENT_SCOPE: [403, 'Forbidden'],
  RG_ERR_RESTRICTED: [403, 'Forbidden'],
  RG_ERR_DENIED: [403, 'Forbidden'],
  RG_ERR_BODY_TIMEOUT: [408, 'Request Timeout'],
  RG_ERR_METHOD_NOT_ALLOWED: [405, 'Method Not Allowed'],
  RG_ERR_BODY_TOO_LARGE: [413, 'Content Too Large'],
  RG_ERR_URI_TOO_LONG: [414, 'URI Too Long'],
  RG_ERR_UNSUPPORTED_MEDIA_TYPE: [415, 'Unsupported Media Type'],
  RG_ERR_RATE_LIMITED: [429, 'Too Many Requests'],
  RG_ERR_INTERNAL: [500, 'Internal Server Error'],
  RG_ERR_UPSTREAM_UNAVAILABLE: [502, 'Bad Gateway'],
  RG_ERR_NOT_READY: [503, 'Service Unavailable'],
  RG_ERR_OVERLOADED: [503, 'Service Unavailable'],
  RG_ERR_STATE_UNAVAILABLE: [503, 'Service Unavailable'],
  RG_ERR_UPSTREAM_TIMEOUT: [504, 'Gateway Timeout'],
} as const satisfies Record<string, readonly [number, string]>;

export type ProblemCode = keyof typeof PROBLEMS;

export interface ProblemOptions {
  /** Overrides the code's default status (deny may be configured as 404 or 429). */
  status?: number;
  headers?: Record<string, string>;
  /** Extra members a client needs to act, e.g. a proof-of-work challenge. */
  extra?: Record<string, unknown>;
  detail?: string;
}

export function sendProblem(
  reply: FastifyReply,
  code: ProblemCode,
  requestId: string,
  options: ProblemOptions = {},
) {
  const [defaultStatus, defaultTitle] = PROBLEMS[code];
  const status = options.status ?? defaultStatus;
  const title = status === defaultStatus ? defaultTitle : status === 404 ? 'Not Found' : defaultTitle;
  reply.code(status).header('content-type', 'application/problem+json').header('cache-control', 'no-store');
  reply.header('x-riskgate-request-id', requestId);
  if (options.headers) reply.headers(options.headers);
  const body: Record<string, unknown> = { type: 'about:blank', title, status, code, requestId };
  if (options.detail) body['detail'] = options.detail;
  if (options.extra) Object.assign(body, options.extra);
  return reply.send(JSON.stringify(body));
}
