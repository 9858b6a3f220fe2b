/**
 * WebSocket upgrade requests (RFC 6455) take the same request path as any request: Node hands
 * them over detached from its HTTP parser, so they get a response bound to their socket and go
 * to the request handler — routed, scored and decided. A refused upgrade is answered in HTTP
 * (problem document, 401/403/429) and its connection closed before any switch; an allowed one
 * is tunnelled by the request path (proxy/websocket-tunnel.ts). Other upgrades (h2c, TLS) are
 * ordinary requests whose Upgrade header stops here (hop-by-hop).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { nodeHttp } from '../net/http-client.ts';
import type { EnforcerMetrics } from '../observability/metrics.ts';
import { markUpgrade } from '../proxy/websocket-tunnel.ts';
import type { ConnectionPressure } from './connection-pressure.ts';

/** For http.createServer's `shouldUpgradeCallback`: only WebSocket upgrades leave HTTP/1.1. */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  const upgrade = req.headers['upgrade'];
  return typeof upgrade === 'string' && upgrade.toLowerCase() === 'websocket' && req.method === 'GET';
}

type Handler = (req: IncomingMessage, res: import('node:http').ServerResponse) => void;

export function acceptWebSocketUpgrades(
  server: Server,
  handler: Handler,
  metrics: EnforcerMetrics,
  pressure: ConnectionPressure,
): void {
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    pressure.inUse(socket as Socket);
    const pending = { socket, head, forwarded: false };
    markUpgrade(req, pending);
    const res = new nodeHttp.ServerResponse(req);
    // The connection ends with this answer unless the request path switches it to a tunnel.
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Socket);
    res.once('finish', () => {
      // Answered in HTTP: by the enforcer (refused) or by an app that would not switch.
      if (!pending.forwarded) metrics.countWebSocket('refused');
      (socket as Socket).destroySoon();
    });
    socket.on('error', () => socket.destroy());
    handler(req, res);
  });
}
