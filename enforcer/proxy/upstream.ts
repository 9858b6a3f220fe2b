/**
 * Forwards a request to the app over an undici connection pool (keep-alive, streaming in both
 * directions, no retries: a retried POST is a second payment). When the app fails, the client
 * gets our own 502 or 504 problem document, never a hang.
 */
import type { IncomingMessage } from 'node:http';
import type { Pool as PoolType } from 'undici';
import { sendProblem } from '../actions/problem.ts';
import type { Reply } from '../listener/reply.ts';
import { Pool, request, undiciErrors } from '../net/http-client.ts';
import { type HeaderRules, replyWithAppHead, upstreamRequestHeaders } from './headers.ts';

/**
 * How long the app may take to start its answer, and then to send each next piece of it: one
 * value for both, as nginx's proxy_read_timeout. Equal on purpose: when they differ, undici arms
 * a new timer (and a WeakRef) for the body on every request, and a cleared timer stays in its
 * list until the next half-second sweep — long enough to outlive a young-generation collection.
 * Measured at 1,000 rps, side by side: undici's timers put ~135 bytes per request into the old
 * generation with 30/60 s, ~70 with one value (bench/README.md).
 */
export const UPSTREAM_READ_TIMEOUT_MS = 60_000;

export interface UpstreamOptions {
  url: string;
  connections?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  connectTimeoutMs?: number;
}

/** Sends an allowed request to the app and streams its answer back (Upstream, Http2Upstream). */
export interface Forwarder {
  forward(
    req: IncomingMessage,
    reply: Reply,
    pathAndQuery: string,
    extraHeaders: Record<string, string>,
    requestId: string,
    rules: HeaderRules,
    body?: Buffer,
  ): Promise<ForwardResult>;
  close(): Promise<void>;
}

export interface ForwardResult {
  /** Upstream status, or 0 when the app could not be reached. */
  status: number;
  /** Time to response headers, ms. */
  headersMs: number;
}

/** The request carries a body to pass on. */
export function hasBody(req: IncomingMessage): boolean {
  // HTTP/2 has no Transfer-Encoding: a request has a body when its HEADERS did not end the stream.
  const stream = (req as unknown as { stream?: { endAfterHeaders: boolean } }).stream;
  if (stream !== undefined) return !stream.endAfterHeaders;
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

export class Upstream implements Forwarder {
  private readonly pool: PoolType;

  constructor(options: UpstreamOptions) {
    this.pool = new Pool(options.url, {
      connections: options.connections ?? 128,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: options.headersTimeoutMs ?? UPSTREAM_READ_TIMEOUT_MS,
      bodyTimeout: options.bodyTimeoutMs ?? UPSTREAM_READ_TIMEOUT_MS,
      connectTimeout: options.connectTimeoutMs ?? 5_000,
    });
  }

  /**
   * Sends the request upstream and streams the answer to the client. `body`, when given,
   * replaces the request stream (the enforcer had to read it, e.g. on a login route).
   */
  async forward(
    req: IncomingMessage,
    reply: Reply,
    pathAndQuery: string,
    extraHeaders: Record<string, string>,
    requestId: string,
    rules: HeaderRules,
    body?: Buffer,
  ): Promise<ForwardResult> {
    const started = performance.now();
    const headers = upstreamRequestHeaders(req.headers, req.socket.remoteAddress, extraHeaders, rules);
    if (body !== undefined) {
      delete headers['transfer-encoding'];
      headers['content-length'] = String(body.length);
    }
    try {
      const res = await request(this.pool, {
        method: req.method as 'GET',
        path: pathAndQuery,
        headers,
        body: body ?? (hasBody(req) ? req : null),
      });
      const headersMs = performance.now() - started;
      replyWithAppHead(reply, res.statusCode, res.headers, requestId);
      reply.send(res.body);
      return { status: res.statusCode, headersMs };
    } catch (err) {
      const headersMs = performance.now() - started;
      if (reply.sent || reply.raw.headersSent) {
        reply.raw.destroy();
        return { status: 0, headersMs };
      }
      const timeout =
        err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.ConnectTimeoutError;
      if (err instanceof undiciErrors.RequestContentLengthMismatchError) {
        sendProblem(reply, 'RG_ERR_BAD_BODY', requestId);
      } else {
        sendProblem(reply, timeout ? 'RG_ERR_UPSTREAM_TIMEOUT' : 'RG_ERR_UPSTREAM_UNAVAILABLE', requestId);
      }
      return { status: 0, headersMs };
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
