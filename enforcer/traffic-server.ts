/**
 * The traffic listener (default :15080): a fastify server that hands every request, whatever its
 * method or path, to the request path, and never parses bodies itself — they stream to the app.
 * One port speaks what the app's port spoke: HTTP/1.1, WebSocket upgrades and HTTP/2 cleartext
 * (gRPC) — each request or stream taking the same path (listener/).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { sendProblem } from './actions/problem.ts';
import { shedUnderPressure } from './listener/connection-pressure.ts';
import { acceptHttp2Cleartext, HTTP2_LIMITS, type Http2Limits } from './listener/http2-cleartext.ts';
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

export function createTrafficServer(deps: RequestPathDeps, options: TrafficServerOptions = {}) {
  let handle: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const requestTimeout = options.requestTimeoutMs ?? 60_000;
  const app: FastifyInstance = Fastify({
    logger: false,
    genReqId: requestIds(),
    requestIdHeader: false,
    disableRequestLogging: true,
    return503OnClosing: true,
    keepAliveTimeout: 65_000,
    requestTimeout: options.requestTimeoutMs ?? 60_000,
    connectionTimeout: 0,
    maxRequestsPerSocket: 0,
    bodyLimit: 1024 * 1024,
    // The HTTP/1.1 server is ours, so that HTTP/2 and WebSocket upgrades can reach fastify's
    // handler too. Slow clients are checked every second, not every 30 s (Node's default), so a
    // slowloris connection is closed soon after its deadline.
    serverFactory: (handler) => {
      handle = handler;
      const server = nodeHttp.createServer(
        {
          headersTimeout: options.headersTimeoutMs ?? 10_000,
          requestTimeout,
          connectionsCheckingInterval: 1000,
          maxHeaderSize: 16 * 1024,
          shouldUpgradeCallback: isWebSocketUpgrade,
        },
        handler,
      );
      server.keepAliveTimeout = 65_000;
      server.requestTimeout = requestTimeout;
      return server;
    },
  } as FastifyServerOptions);
  // Bodies are not ours to parse: they stream to the app (login routes read theirs, bounded).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  const handler = createRequestHandler(deps);
  app.all('/*', handler);
  app.setNotFoundHandler(handler);

  app.setErrorHandler((err, request, reply) => {
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    if (status >= 400 && status < 500) {
      sendProblem(reply, 'RG_ERR_BAD_BODY', request.id, { status });
      return;
    }
    deps.log.failure(request.id, err);
    sendProblem(reply, 'RG_ERR_INTERNAL', request.id);
  });

  const pressure = shedUnderPressure(app.server, options.maxConnections ?? MAX_CONNECTIONS);
  acceptWebSocketUpgrades(app.server, handle!, deps.metrics, pressure);
  const h2 = acceptHttp2Cleartext(app.server, handle!, deps.metrics, pressure, {
    ...HTTP2_LIMITS,
    ...options.http2,
  });
  // Before the listener waits for its connections to end: HTTP/2 sessions get GOAWAY (streams in
  // flight finish) and WebSocket tunnels a close frame.
  app.addHook('preClose', async () => {
    h2.close();
    await deps.tunnel.close();
  });
  // A client may half-close after sending its request (RFC 9112 allows it; scanners and some
  // clients do). Node's default aborts such a request before a proxied answer can come back;
  // keep the socket open for the answer instead — requestTimeout still bounds it.
  (app.server as unknown as { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  return app;
}
