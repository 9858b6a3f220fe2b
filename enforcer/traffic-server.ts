/**
 * The traffic listener (default :15080): a fastify server that hands every request, whatever its
 * method or path, to the request path, and never parses bodies itself — they stream to the app.
 */
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { sendProblem } from './actions/problem.ts';
import { createRequestHandler, type RequestPathDeps } from './request-path.ts';

function requestIds(): () => string {
  const prefix = randomBytes(6).toString('base64url');
  let counter = 0;
  return () => `${prefix}-${(counter++).toString(36)}`;
}

export interface TrafficServerOptions {
  maxConnections?: number;
  /** A client must finish sending headers within this (slowloris). Default 10 s. */
  headersTimeoutMs?: number;
  /** ... and the whole request within this. Default 60 s. */
  requestTimeoutMs?: number;
}

export function createTrafficServer(deps: RequestPathDeps, options: TrafficServerOptions = {}) {
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
    // Passed to http.createServer: slow clients are checked every second, not every 30 s
    // (Node's default), so a slowloris connection is closed soon after its deadline.
    http: {
      headersTimeout: options.headersTimeoutMs ?? 10_000,
      requestTimeout: options.requestTimeoutMs ?? 60_000,
      connectionsCheckingInterval: 1000,
      maxHeaderSize: 16 * 1024,
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

  if (options.maxConnections) app.server.maxConnections = options.maxConnections;
  // A client may half-close after sending its request (RFC 9112 allows it; scanners and some
  // clients do). Node's default aborts such a request before a proxied answer can come back;
  // keep the socket open for the answer instead — requestTimeout still bounds it.
  (app.server as unknown as { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  return app;
}
