/**
 * Forwards to an app that speaks HTTP/2 in cleartext (gRPC servers, h2c apps) over one multiplexed
 * session, whatever protocol the client spoke. Streams pass both ways with HTTP/2 flow control as
 * their backpressure, trailers (gRPC's status) are relayed, and a client that cancels its stream
 * cancels the app's. Like the HTTP/1.1 upstream: no retries, and our own 502/504 (or gRPC status)
 * when the app cannot answer.
 */
import type { IncomingMessage } from 'node:http';
import http2, { type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders } from 'node:http2';
import { sendProblem } from '../actions/problem.ts';
import type { Reply } from '../listener/reply.ts';
import {
  downstreamResponseHeaders,
  type HeaderRules,
  replyWithAppHead,
  upstreamRequestHeaders,
} from './headers.ts';
import {
  type Forwarder,
  type ForwardResult,
  hasBody,
  UPSTREAM_READ_TIMEOUT_MS,
  type UpstreamOptions,
} from './upstream.ts';

const { NGHTTP2_CANCEL } = http2.constants;

export class Http2Upstream implements Forwarder {
  private session: ClientHttp2Session | undefined;
  private readonly url: string;
  private readonly headersTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private closed = false;

  constructor(options: UpstreamOptions) {
    this.url = options.url;
    this.headersTimeoutMs = options.headersTimeoutMs ?? UPSTREAM_READ_TIMEOUT_MS;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  }

  /** The session to the app, opened on first use and again after the app closed it. */
  private connect(): ClientHttp2Session {
    const current = this.session;
    if (current && !current.closed && !current.destroyed) return current;
    const session = http2.connect(this.url, {
      // The app's answers are as large as it makes them; the client's flow control bounds them.
      settings: { enablePush: false, initialWindowSize: 1 << 20 },
    });
    const timer = setTimeout(() => session.destroy(new Error('connect timeout')), this.connectTimeoutMs);
    timer.unref();
    session.once('connect', () => {
      clearTimeout(timer);
      // Room for many streams' answers in flight at once on the one connection.
      session.setLocalWindowSize(8 << 20);
    });
    const forget = () => {
      clearTimeout(timer);
      if (this.session === session) this.session = undefined;
    };
    session.on('close', forget);
    session.on('goaway', forget);
    // Errors end up on each stream; the session's own would otherwise crash the process.
    session.on('error', forget);
    session.unref();
    this.session = session;
    return session;
  }

  forward(
    req: IncomingMessage,
    reply: Reply,
    pathAndQuery: string,
    extraHeaders: Record<string, string>,
    requestId: string,
    rules: HeaderRules,
    body?: Buffer,
  ): Promise<ForwardResult> {
    const started = performance.now();
    const fields = upstreamRequestHeaders(req.headers, req.socket.remoteAddress, extraHeaders, rules);
    const authority = fields['host'];
    delete fields['host'];
    if (body !== undefined) fields['content-length'] = String(body.length);
    const headers: OutgoingHttpHeaders = {
      ...fields,
      ':method': req.method ?? 'GET',
      ':path': pathAndQuery,
      ':scheme': this.url.startsWith('https:') ? 'https' : 'http',
      ':authority': typeof authority === 'string' ? authority : new URL(this.url).host,
    };
    // gRPC servers require it; it is the one value of TE that HTTP/2 allows.
    if (/\btrailers\b/i.test(String(req.headers['te'] ?? ''))) headers['te'] = 'trailers';

    return new Promise<ForwardResult>((resolve) => {
      let stream: ClientHttp2Stream;
      const sendsBody = body === undefined && hasBody(req);
      try {
        if (this.closed) throw new Error('closed');
        stream = this.connect().request(headers, { endStream: body === undefined && !sendsBody });
      } catch {
        sendProblem(reply, 'RG_ERR_UPSTREAM_UNAVAILABLE', requestId);
        resolve({ status: 0, headersMs: performance.now() - started });
        return;
      }
      let answered = false;
      const fail = (timeout: boolean) => {
        if (answered) {
          reply.raw.destroy();
          return;
        }
        answered = true;
        if (!stream.closed) stream.close(NGHTTP2_CANCEL);
        if (!reply.sent && !reply.raw.headersSent) {
          sendProblem(reply, timeout ? 'RG_ERR_UPSTREAM_TIMEOUT' : 'RG_ERR_UPSTREAM_UNAVAILABLE', requestId);
        }
        resolve({ status: 0, headersMs: performance.now() - started });
      };
      stream.setTimeout(this.headersTimeoutMs, () => fail(true));
      stream.on('error', () => fail(false));
      // The client gave up (closed its stream or connection): so does the app's stream.
      // (A request's own 'close' also comes once its body is read: only an unfinished body counts.)
      req.once('close', () => {
        if (!req.complete && !stream.closed) stream.close(NGHTTP2_CANCEL);
      });
      reply.raw.once('close', () => {
        if (!stream.closed) stream.close(NGHTTP2_CANCEL);
      });

      stream.once('response', (responseHeaders) => {
        answered = true;
        // Streams (gRPC server streaming) may be quiet for long: the app decides when they end.
        stream.setTimeout(0);
        const status = Number(responseHeaders[':status']);
        replyWithAppHead(reply, status, responseHeaders as Record<string, string | string[]>, requestId);
        // Relayed before the body's end ends the client's stream: gRPC's status lives here.
        stream.once('trailers', (trailers) => {
          reply.raw.addTrailers(downstreamResponseHeaders(trailers as Record<string, string | string[]>));
        });
        reply.send(stream);
        resolve({ status, headersMs: performance.now() - started });
      });

      if (body !== undefined) stream.end(body);
      else if (sendsBody) req.pipe(stream);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const session = this.session;
    if (!session || session.closed) return;
    await new Promise<void>((resolve) => session.close(resolve));
  }
}
