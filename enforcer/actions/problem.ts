/**
 * Every response the enforcer writes itself is an RFC 9457 problem document with a stable
 * `code` and the request id — and nothing about the policy, the score or the reasons. A gRPC
 * call gets the same answer in gRPC's terms (grpc-status.ts).
 */
import type { ServerHttp2Stream } from 'node:http2';
import type { Reply } from '../listener/reply.ts';
import { headerSafe } from '../proxy/headers.ts';
import { GRPC, isGrpc } from './grpc-status.ts';

/** Each answer: HTTP status, title, and the gRPC status a gRPC call gets instead. */
export const PROBLEMS = {
  RG_ERR_BAD_REQUEST: [400, 'Bad Request', GRPC.INVALID_ARGUMENT],
  RG_ERR_BAD_REQUEST_TARGET: [400, 'Bad Request', GRPC.INVALID_ARGUMENT],
  RG_ERR_BAD_FORWARDED: [400, 'Bad Request', GRPC.INVALID_ARGUMENT],
  RG_ERR_BAD_BODY: [400, 'Bad Request', GRPC.INVALID_ARGUMENT],
  RG_ERR_LOGIN_BODY: [400, 'Bad Request', GRPC.INVALID_ARGUMENT],
  RG_ERR_UNAUTHENTICATED: [401, 'Unauthorized', GRPC.UNAUTHENTICATED],
  RG_ERR_INVALID_TOKEN: [401, 'Unauthorized', GRPC.UNAUTHENTICATED],
  RG_ERR_INVALID_API_KEY: [401, 'Unauthorized', GRPC.UNAUTHENTICATED],
  RG_ERR_STEP_UP_REQUIRED: [401, 'Unauthorized', GRPC.UNAUTHENTICATED],
  RG_ERR_PROOF_OF_WORK_REQUIRED: [401, 'Unauthorized', GRPC.UNAUTHENTICATED],
  RG_ERR_INSUFFICIENT_SCOPE: [403, 'Forbidden', GRPC.PERMISSION_DENIED],
  RG_ERR_RESTRICTED: [403, 'Forbidden', GRPC.PERMISSION_DENIED],
  RG_ERR_DENIED: [403, 'Forbidden', GRPC.PERMISSION_DENIED],
  RG_ERR_BODY_TIMEOUT: [408, 'Request Timeout', GRPC.DEADLINE_EXCEEDED],
  RG_ERR_REQUEST_TIMEOUT: [408, 'Request Timeout', GRPC.DEADLINE_EXCEEDED],
  RG_ERR_METHOD_NOT_ALLOWED: [405, 'Method Not Allowed', GRPC.UNIMPLEMENTED],
  RG_ERR_BODY_TOO_LARGE: [413, 'Content Too Large', GRPC.RESOURCE_EXHAUSTED],
  RG_ERR_URI_TOO_LONG: [414, 'URI Too Long', GRPC.INVALID_ARGUMENT],
  RG_ERR_UNSUPPORTED_MEDIA_TYPE: [415, 'Unsupported Media Type', GRPC.INVALID_ARGUMENT],
  RG_ERR_HEADERS_TOO_LARGE: [431, 'Request Header Fields Too Large', GRPC.RESOURCE_EXHAUSTED],
  RG_ERR_RATE_LIMITED: [429, 'Too Many Requests', GRPC.RESOURCE_EXHAUSTED],
  RG_ERR_INTERNAL: [500, 'Internal Server Error', GRPC.INTERNAL],
  RG_ERR_UPSTREAM_UNAVAILABLE: [502, 'Bad Gateway', GRPC.UNAVAILABLE],
  RG_ERR_NOT_READY: [503, 'Service Unavailable', GRPC.UNAVAILABLE],
  RG_ERR_OVERLOADED: [503, 'Service Unavailable', GRPC.UNAVAILABLE],
  RG_ERR_STATE_UNAVAILABLE: [503, 'Service Unavailable', GRPC.UNAVAILABLE],
  RG_ERR_UPSTREAM_TIMEOUT: [504, 'Gateway Timeout', GRPC.DEADLINE_EXCEEDED],
} as const satisfies Record<string, readonly [number, string, number]>;

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
  reply: Reply,
  code: ProblemCode,
  requestId: string,
  options: ProblemOptions = {},
) {
  const [defaultStatus, defaultTitle, grpcStatus] = PROBLEMS[code];
  const status = options.status ?? defaultStatus;
  const title = status === defaultStatus ? defaultTitle : status === 404 ? 'Not Found' : defaultTitle;
  if (isGrpc(reply.request.raw.headers['content-type'] as string | undefined)) {
    // A deny the policy sends as 404 (to hide the route) or 429 (to pass for a rate limit) keeps
    // that disguise in gRPC's terms.
    const disguised =
      code !== 'RG_ERR_DENIED' || status === defaultStatus
        ? grpcStatus
        : status === 404
          ? GRPC.NOT_FOUND
          : GRPC.RESOURCE_EXHAUSTED;
    return sendGrpcStatus(reply, disguised, `${code} (request ${requestId})`, requestId, options);
  }
  reply.code(status).header('content-type', 'application/problem+json').header('cache-control', 'no-store');
  reply.header('x-riskgate-request-id', requestId);
  if (options.headers) reply.headers(options.headers);
  const body: Record<string, unknown> = { type: 'about:blank', title, status, code, requestId };
  if (options.detail) body['detail'] = options.detail;
  if (options.extra) Object.assign(body, options.extra);
  return reply.send(JSON.stringify(body));
}

/**
 * A gRPC call's answer: HTTP 200, `grpc-status` and a percent-encoded `grpc-message` with the
 * stable code, no message. Challenge headers (WWW-Authenticate) travel as response metadata.
 */
function sendGrpcStatus(
  reply: Reply,
  grpcStatus: number,
  message: string,
  requestId: string,
  options: ProblemOptions,
) {
  const fields: Record<string, string> = {
    'content-type': 'application/grpc',
    'x-riskgate-request-id': requestId,
    ...options.headers,
    'grpc-status': String(grpcStatus),
    'grpc-message': headerSafe(message),
  };
  // Over HTTP/2 the status must come in the one HEADERS frame that ends the stream: clients read
  // headers that do not end it as metadata and then miss the status. A reply would send
  // the headers and then an empty body.
  const stream = (reply.request.raw as unknown as { stream?: ServerHttp2Stream }).stream;
  if (stream !== undefined) {
    reply.hijack();
    if (!stream.destroyed && !stream.headersSent)
      stream.respond({ ':status': 200, ...fields }, { endStream: true });
    return reply;
  }
  return reply.code(200).headers(fields).send();
}
