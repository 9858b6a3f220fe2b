/**
 * HTTP/2 in cleartext with prior knowledge (h2c: gRPC inside a cluster, `curl
 * --http2-prior-knowledge`) and HTTP/1.1 on the same port. Node's HTTP/2 server offers HTTP/1.1
 * only behind TLS (ALPN), so each new connection's first bytes are read: the HTTP/2 connection
 * preface goes to an HTTP/2 server, anything else to the HTTP/1.1 server as if it had accepted it
 * (its native parser still reads the socket: the HTTP/1.1 path is unchanged). Both hand requests
 * to the same request handler, so every stream is routed, scored and answered like a request.
 *
 * The HTTP/2 side is held to limits an attacker meets first: streams per connection, header list
 * size and pairs, session memory, invalid frames and refused streams (rapid reset,
 * CVE-2023-44487), CONTINUATION frames (CVE-2024-27316), SETTINGS floods — nghttp2 and Node
 * enforce them; a session that breaks them is closed and counted.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import http2, { type Http2Server, type Http2Session, type ServerHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';
import { isGrpc } from '../actions/grpc-status.ts';
import type { EnforcerMetrics } from '../observability/metrics.ts';
import type { ConnectionPressure } from './connection-pressure.ts';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export interface Http2Limits {
  /**
   * A client that cancels this many streams before they are answered, and at least half of all it
   * opened, is sent GOAWAY (ENHANCE_YOUR_CALM) and cut off: each cancelled stream may already be
   * on its way to the app (rapid reset, CVE-2023-44487).
   */
  maxPrematureResets: number;
  /** Concurrent streams a client may open on one connection. */
  maxConcurrentStreams: number;
  /** Largest decoded header list (HPACK bombs stop here), bytes. */
  maxHeaderListSize: number;
  /** A connection with no stream open for this long is closed (GOAWAY). */
  idleTimeoutMs: number;
  /** A connection must send its first bytes within this. */
  prefaceTimeoutMs: number;
}

export const HTTP2_LIMITS: Http2Limits = {
  maxPrematureResets: 100,
  maxConcurrentStreams: 100,
  maxHeaderListSize: 16 * 1024,
  idleTimeoutMs: 65_000,
  prefaceTimeoutMs: 10_000,
};

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface Http2Cleartext {
  /** Closes every HTTP/2 session gracefully (GOAWAY; streams in flight finish). */
  close(): void;
}

/** How many bytes of the preface `data` matches from its start; -1 at the first byte that differs. */
function prefaceMatch(data: Buffer): number {
  const n = Math.min(data.length, PREFACE.length);
  for (let i = 0; i < n; i++) if (data[i] !== PREFACE[i]) return -1;
  return n;
}

export function acceptHttp2Cleartext(
  server: Server,
  handler: Handler,
  metrics: EnforcerMetrics,
  pressure: ConnectionPressure,
  limits: Http2Limits = HTTP2_LIMITS,
): Http2Cleartext {
  const serverOptions = {
    maxSessionMemory: 10,
    maxHeaderListPairs: 128,
    maxSessionInvalidFrames: 100,
    maxSessionRejectedStreams: 100,
    maxSettings: 32,
    peerMaxConcurrentStreams: limits.maxConcurrentStreams,
    unknownProtocolTimeout: limits.prefaceTimeoutMs,
    settings: {
      maxConcurrentStreams: limits.maxConcurrentStreams,
      maxHeaderListSize: limits.maxHeaderListSize,
      enablePush: false,
    },
  };
  // maxSessionInvalidFrames and maxSessionRejectedStreams are Node options its types leave out.
  const h2: Http2Server = http2.createServer(serverOptions as http2.ServerOptions);
  const sessions = new Set<Http2Session>();
  /** Streams opened and cancelled before their answer, per session; sessions cut off for it. */
  const counts = new WeakMap<Http2Session, { streams: number; resets: number }>();
  const rapidReset = new WeakSet<Http2Session>();
  let shuttingDown = false;
  h2.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    metrics.http2Sessions.inc();
    let reason = 'client';
    session.setTimeout(limits.idleTimeoutMs, () => {
      reason = 'idle';
      session.close();
    });
    session.on('goaway', () => {
      reason = 'client';
    });
    session.on('frameError', () => {
      reason = 'protocol_error';
    });
    session.on('error', () => {
      reason = 'protocol_error';
    });
    session.once('close', () => {
      if (rapidReset.has(session)) reason = 'rapid_reset';
      else if (shuttingDown) reason = 'shutdown';
      sessions.delete(session);
      metrics.http2Sessions.dec();
      metrics.http2SessionsClosed.labels(reason).inc();
    });
    // nghttp2 answers a flood with GOAWAY ENHANCE_YOUR_CALM or PROTOCOL_ERROR and ends the session.
    const socket = session.socket as Socket | undefined;
    if (socket) pressure.inUse(socket);
  });
  h2.on('stream', (stream) => {
    const session = stream.session;
    if (!session) return;
    let c = counts.get(session);
    if (c === undefined) {
      c = { streams: 0, resets: 0 };
      counts.set(session, c);
    }
    c.streams++;
    const seen = c;
    stream.once('aborted', () => {
      // Streams cut short because the whole connection went are not resets the client sent.
      if (session.destroyed || session.closed || session.socket?.destroyed) return;
      seen.resets++;
      if (seen.resets >= limits.maxPrematureResets && seen.resets * 2 >= seen.streams && !session.closed) {
        rapidReset.add(session);
        // (A number as the first argument is the GOAWAY code: Node's documented overload.)
        session.destroy(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM as unknown as Error);
      }
    });
  });
  h2.on('request', (req, res) => {
    metrics.protocolRequests
      .labels(isGrpc(req.headers['content-type'] as string | undefined) ? 'grpc' : 'http')
      .inc();
    handler(req as unknown as IncomingMessage, res as unknown as ServerResponse);
  });
  // A stream the handler never saw (refused, reset) must not take the process down.
  h2.on('sessionError', () => {});

  const [http1] = server.listeners('connection') as ((socket: Socket) => void)[];
  if (http1 === undefined) throw new Error('the HTTP/1.1 server has no connection listener');
  server.removeListener('connection', http1);
  server.prependListener('connection', (socket: Socket) => {
    let seen: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), limits.prefaceTimeoutMs);
    const onData = (chunk: Buffer) => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const matched = prefaceMatch(seen);
      // A prefix of the preface ("P", "PRI *") is still either protocol: wait for more.
      if (matched !== -1 && matched < PREFACE.length) return;
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('error', onError);
      socket.removeListener('end', onError);
      if (matched === PREFACE.length) {
        // The HTTP/2 session reads what was put back when it takes the socket, then reads the
        // socket natively (resuming it here would race the session for the bytes).
        socket.pause();
        socket.unshift(seen);
        // The listener allows half-open sockets (for HTTP/1.1); HTTP/2 has no use for one, and
        // the session closes only with its socket.
        socket.once('end', () => socket.destroy());
        h2.emit('connection', socket);
      } else {
        socket.pause();
        socket.unshift(seen);
        http1.call(server, socket);
        socket.resume();
      }
    };
    // Gone (or half-closed: the server allows half-open sockets) before saying anything.
    const onError = () => {
      clearTimeout(timer);
      socket.destroy();
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('end', onError);
  });

  return {
    close() {
      shuttingDown = true;
      for (const session of sessions) session.close();
    },
  };
}
