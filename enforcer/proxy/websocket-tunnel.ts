/**
 * Forwards an allowed WebSocket upgrade (RFC 6455): the upgrade request goes to the app, and when
 * the app switches protocols the two sockets are joined — bytes pass both ways with TCP's own
 * backpressure (`pipe`), and a tunnel quiet in both directions for the idle timeout is closed.
 * When the app answers anything but 101, that answer goes to the client as any response would.
 * The decision was made on the upgrade request; frames inside the tunnel are the app's.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { sendProblem } from '../actions/problem.ts';
import type { Reply } from '../listener/reply.ts';
import { nodeHttp } from '../net/http-client.ts';
import type { EnforcerMetrics } from '../observability/metrics.ts';
import { type HeaderRules, replyWithAppHead, upstreamRequestHeaders } from './headers.ts';
import type { ForwardResult } from './upstream.ts';

/** What the listener hands over with an upgrade request: the client's socket and its first bytes. */
export interface PendingUpgrade {
  socket: Duplex;
  head: Buffer;
  /** Set once the request path sent it to the app (allowed). */
  forwarded: boolean;
}

const UPGRADE = Symbol('riskgate.upgrade');

export function markUpgrade(req: IncomingMessage, upgrade: PendingUpgrade): void {
  (req as unknown as Record<symbol, PendingUpgrade>)[UPGRADE] = upgrade;
}

/** The pending upgrade of a request that arrived as one; undefined for every other request. */
export function upgradeOf(req: IncomingMessage): PendingUpgrade | undefined {
  return (req as unknown as Record<symbol, PendingUpgrade | undefined>)[UPGRADE];
}

export interface WebSocketTunnelOptions {
  /** The app, http://host:port. */
  url: string;
  /** A tunnel with no bytes either way for this long is closed. Default 10 minutes. */
  idleTimeoutMs?: number;
  connectTimeoutMs?: number;
  metrics: EnforcerMetrics;
}

/** RFC 6455 close frame, status 1001 (going away): what a client sees when the enforcer stops. */
const GOING_AWAY = Buffer.from([0x88, 0x02, 0x03, 0xe9]);

export class WebSocketTunnel {
  private readonly host: string;
  private readonly port: number;
  private readonly idleTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly metrics: EnforcerMetrics;
  private readonly open = new Set<Duplex>();

  constructor(options: WebSocketTunnelOptions) {
    const u = new URL(options.url);
    this.host = u.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(u.port || 80);
    this.idleTimeoutMs = options.idleTimeoutMs ?? 600_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    this.metrics = options.metrics;
  }

  forward(
    req: IncomingMessage,
    reply: Reply,
    pathAndQuery: string,
    extraHeaders: Record<string, string>,
    requestId: string,
    rules: HeaderRules,
  ): Promise<ForwardResult> {
    const started = performance.now();
    const pending = upgradeOf(req)!;
    pending.forwarded = true;
    const headers = upstreamRequestHeaders(req.headers, req.socket.remoteAddress, extraHeaders, rules);
    headers['connection'] = 'Upgrade';
    headers['upgrade'] = String(req.headers['upgrade']);
    return new Promise<ForwardResult>((resolve) => {
      let settled = false;
      const settle = (status: number) => {
        settled = true;
        resolve({ status, headersMs: performance.now() - started });
      };
      const out = nodeHttp.request({
        host: this.host,
        port: this.port,
        method: req.method ?? 'GET',
        path: pathAndQuery,
        headers,
        agent: false,
        timeout: this.connectTimeoutMs,
      });
      out.on('timeout', () => out.destroy(new Error('timeout')));
      out.on('error', (err) => {
        if (settled) return;
        this.metrics.countWebSocket('upstream_failed');
        sendProblem(
          reply,
          err.message === 'timeout' ? 'RG_ERR_UPSTREAM_TIMEOUT' : 'RG_ERR_UPSTREAM_UNAVAILABLE',
          requestId,
        );
        settle(0);
      });
      out.on('response', (res) => {
        // The app declined to switch: its answer is the client's.
        this.metrics.countWebSocket('upstream_declined');
        replyWithAppHead(reply, res.statusCode ?? 502, res.headers, requestId);
        reply.send(res);
        settle(res.statusCode ?? 0);
      });
      out.on('upgrade', (res, appSocket, appHead) => {
        out.setTimeout(0);
        reply.hijack();
        const client = pending.socket;
        (reply.raw as unknown as { detachSocket(s: Duplex): void }).detachSocket(client);
        if (client.destroyed) {
          appSocket.destroy();
          settle(101);
          return;
        }
        let head = 'HTTP/1.1 101 Switching Protocols\r\n';
        const raw = res.rawHeaders;
        for (let i = 0; i < raw.length; i += 2) {
          if (raw[i]!.toLowerCase().startsWith('x-riskgate-')) continue;
          head += `${raw[i]}: ${raw[i + 1]}\r\n`;
        }
        head += `x-riskgate-request-id: ${requestId}\r\n\r\n`;
        client.write(head);
        if (appHead.length > 0) client.write(appHead);
        if (pending.head.length > 0) appSocket.write(pending.head);
        this.join(client, appSocket);
        settle(101);
      });
      out.end();
    });
  }

  private join(client: Duplex, app: Duplex): void {
    const opened = performance.now();
    this.open.add(client);
    this.metrics.webSocketOpened();
    (client as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
    (app as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      this.open.delete(client);
      this.metrics.webSocketClosed((performance.now() - opened) / 1000);
      client.destroy();
      app.destroy();
    };
    const idle = () => close();
    (client as { setTimeout?: (ms: number, cb: () => void) => void }).setTimeout?.(this.idleTimeoutMs, idle);
    (app as { setTimeout?: (ms: number, cb: () => void) => void }).setTimeout?.(this.idleTimeoutMs, idle);
    client.on('error', close);
    app.on('error', close);
    client.on('close', close);
    app.on('close', close);
    client.pipe(app);
    app.pipe(client);
  }

  /** Tells every open tunnel's client the server is going away (1001) and closes it. */
  close(): Promise<void> {
    for (const client of this.open) {
      client.end(GOING_AWAY);
      setTimeout(() => client.destroy(), 1000).unref();
    }
    return Promise.resolve();
  }
}
