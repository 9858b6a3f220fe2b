/**
 * The traffic listener (default :15080): Node's HTTP server handing every request, whatever its
 * method or path, to the request path, and never parsing bodies itself — they stream to the app.
 * One port speaks what the app's port spoke: HTTP/1.1, WebSocket upgrades and HTTP/2 cleartext
 * (gRPC) — each request or stream taking the same path (listener/).
 *
 * No web framework on this port: there is one route, every request, and the request path is
 * its own router. fastify in front of it cost ~20% of a bare proxy's CPU per request for
 * routing, hooks and reply machinery the enforcer did not use (bench/README.md).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { PROBLEMS, type ProblemCode, sendProblem } from './actions/problem.ts';
import { shedUnderPressure } from './listener/connection-pressure.ts';
import { acceptHttp2Cleartext, HTTP2_LIMITS, type Http2Limits } from './listener/http2-cleartext.ts';
import { Reply } from './listener/reply.ts';
import { acceptWebSocketUpgrades, isWebSocketUpgrade } from './listener/websocket-upgrade.ts';
import { nodeHttp } from './net/http-client.ts';
import { createRequestHandler, type RequestPathDeps } from './request-path.ts';

function requestIds(): () => string {
  const prefix = randomBytes(6).toString('base64url');
  let counter = 0;
  return () => `${prefix}-${(counter++).toString(36)}`;
}

/** Connections the listener holds at most; beyond three quarters of it, idle keep-alive ones are closed. */
export const MAX_CONNECTIONS = 2048;

export interface TrafficServerOptions {
  maxConnections?: number;
  /** A client must finish sending headers within this (slowloris). Default 10 s. */
  headersTimeoutMs?: number;
  /** ... and the whole request within this. Default 60 s. */
  requestTimeoutMs?: number;
  http2?: Partial<Http2Limits>;
}

export interface TrafficServer {
  readonly server: Server;
  listen(at: { host: string; port: number }): Promise<void>;
  /** Stops taking requests (new ones get 503), lets those in flight finish, and closes. */
  close(): Promise<void>;
}

/** What a request Node's parser refuses gets, by the parser's error code; anything else is a 400. */
const CLIENT_ERRORS: Record<string, ProblemCode> = {
  HPE_HEADER_OVERFLOW: 'RG_ERR_HEADERS_TOO_LARGE',
  ERR_HTTP_REQUEST_TIMEOUT: 'RG_ERR_REQUEST_TIMEOUT',
};

/** A problem document and the connection closed, before the bytes were ever a request. */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const code = CLIENT_ERRORS[err.code ?? ''] ?? 'RG_ERR_BAD_REQUEST';
  const [status, title] = PROBLEMS[code];
  const body = JSON.stringify({ type: 'about:blank', title, status, code });
  // As Node's own handler: not over an answer already on its way.
  const answering = (socket as unknown as { _httpMessage?: { headersSent: boolean } })._httpMessage;
  if (socket.writable && !answering?.headersSent)
    socket.write(
      `HTTP/1.1 ${status} ${title}\r\nconnection: close\r\ncontent-type: application/problem+json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
    );
  socket.destroy();
}

export function createTrafficServer(
  deps: RequestPathDeps,
  options: TrafficServerOptions = {},
): TrafficServer {
  const handle = createRequestHandler(deps);
  const nextId = requestIds();
  let closing = false;

  function failed(err: unknown, reply: Reply): void {
    if (reply.sent) {
      reply.raw.destroy();
      return;
    }
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    if (status >= 400 && status < 500) {
      sendProblem(reply, 'RG_ERR_BAD_BODY', reply.request.id, { status });
      return;
    }
    deps.log.failure(reply.request.id, err as Error);
    sendProblem(reply, 'RG_ERR_INTERNAL', reply.request.id);
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const reply = new Reply({ id: nextId(), raw: req }, res);
    if (closing) {
      // Stopping: the client goes elsewhere; on HTTP/1.1 the connection closes with the answer.
      if (req.httpVersionMajor === 1) reply.header('connection', 'close');
      sendProblem(reply, 'RG_ERR_NOT_READY', reply.request.id, { headers: { 'retry-after': '5' } });
      return;
    }
    try {
      const pending = handle(reply.request, reply);
      if (pending !== undefined) pending.then(undefined, (err: unknown) => failed(err, reply));
    } catch (err) {
      failed(err, reply);
    }
  }

  const server = nodeHttp.createServer(
    {
      headersTimeout: options.headersTimeoutMs ?? 10_000,
      requestTimeout: options.requestTimeoutMs ?? 60_000,
      // Slow clients are checked every second, not every 30 s (Node's default), so a slowloris
      // connection is closed soon after its deadline.
      connectionsCheckingInterval: 1000,
      maxHeaderSize: 16 * 1024,
      keepAliveTimeout: 65_000,
      shouldUpgradeCallback: isWebSocketUpgrade,
    },
    onRequest,
  );
  server.on('clientError', answerClientError);
  // A client may half-close after sending its request (RFC 9112 allows it; scanners and some
  // clients do). Node's default aborts such a request before a proxied answer can come back;
  // keep the socket open for the answer instead — requestTimeout still bounds it.
  (server as unknown as { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;

  const pressure = shedUnderPressure(server, options.maxConnections ?? MAX_CONNECTIONS);
  acceptWebSocketUpgrades(server, onRequest, deps.metrics, pressure);
  const h2 = acceptHttp2Cleartext(server, onRequest, deps.metrics, pressure, {
    ...HTTP2_LIMITS,
    ...options.http2,
  });

  return {
    server,
    listen: (at) =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(at.port, at.host, () => {
          server.off('error', reject);
          resolve();
        });
      }),
    close: async () => {
      if (closing) return;
      closing = true;
      // Before the listener waits for its connections to end: HTTP/2 sessions get GOAWAY
      // (streams in flight finish) and WebSocket tunnels a close frame.
      h2.close();
      await deps.tunnel.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
    },
  };
}
