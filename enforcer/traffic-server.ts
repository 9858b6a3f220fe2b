/**
 * The traffic listener (default :15080): a fastify server that hands every request, whatever its
 * method or path, to the request path, and never parses bodies itself — they stream to the app.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { sendProblem } from './actions/problem.ts';
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
}

/** A connection that has not sent a request in this long is the first to go under pressure. */
const WAITING_GRACE_MS = 500;

/**
 * Connections are bounded: past the cap new ones are closed at once, and from three quarters of
 * it the listener sheds what serves nobody — first connections that have not sent a request
 * within half a second, oldest first (Node would keep those until headersTimeout), then, if that
 * is not enough, keep-alive connections between requests (they reconnect) — so thousands of idle
 * sockets cannot crowd out clients with a request to send.
 */
function shedUnderPressure(server: Server, max: number): void {
  server.maxConnections = max;
  const pressure = Math.ceil(max * 0.75);
  /** Sockets that have not sent a request yet, oldest first, with when they came. */
  const waiting = new Map<Socket, number>();
  let open = 0;
  let lastSweep = 0;
  let again: NodeJS.Timeout | undefined;
  const shed = () => {
    let excess = open - pressure + 1;
    if (excess <= 0) return;
    const now = Date.now();
    for (const [s, since] of waiting) {
      if (excess <= 0 || now - since < WAITING_GRACE_MS) break;
      waiting.delete(s);
      s.destroy();
      excess--;
    }
    if (excess <= 0) return;
    if (waiting.size >= excess) {
      // Enough sockets that have not asked yet, only too young to judge: look again soon.
      again ??= setTimeout(() => {
        again = undefined;
        shed();
      }, WAITING_GRACE_MS).unref();
      return;
    }
    // Not enough of them: keep-alive connections between requests go too (they reconnect).
    // A sweep walks every connection: at most ten a second.
    if (now - lastSweep >= 100) {
      lastSweep = now;
      server.closeIdleConnections();
    }
  };
  server.on('connection', (socket: Socket) => {
    open++;
    waiting.set(socket, Date.now());
    socket.once('close', () => {
      open--;
      waiting.delete(socket);
    });
    if (open >= pressure) shed();
  });
  // At the cap Node refuses a connection before it is one: make room for the next.
  server.on('drop', shed);
  server.on('request', (req: IncomingMessage) => {
    waiting.delete(req.socket);
  });
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

  shedUnderPressure(app.server, options.maxConnections ?? MAX_CONNECTIONS);
  // A client may half-close after sending its request (RFC 9112 allows it; scanners and some
  // clients do). Node's default aborts such a request before a proxied answer can come back;
  // keep the socket open for the answer instead — requestTimeout still bounds it.
  (app.server as unknown as { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  return app;
}
