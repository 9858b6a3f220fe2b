/**
 * Connections are bounded: past the cap new ones are closed at once, and from three quarters of
 * it the listener sheds what serves nobody — first connections that have not sent a request
 * within half a second, oldest first (Node would keep those until headersTimeout), then, if that
 * is not enough, keep-alive connections between requests (they reconnect) — so thousands of idle
 * sockets cannot crowd out clients with a request to send.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';

/** A connection that has not sent a request in this long is the first to go under pressure. */
const WAITING_GRACE_MS = 500;

export interface ConnectionPressure {
  /** The socket carried a request (HTTP/1.1, an upgrade, or an HTTP/2 stream): it is in use. */
  inUse(socket: Socket): void;
}

export function shedUnderPressure(server: Server, max: number): ConnectionPressure {
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
  return { inUse: (socket) => waiting.delete(socket) };
}
