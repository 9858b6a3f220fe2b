/**
 * WebSocket upgrades and streaming HTTP/1.1 through a real enforcer to a real app (ws, Node's
 * http), over sockets. Attacker first: a refused upgrade never switches and never reaches the
 * app, whatever its spelling, and its socket carries nothing after the refusal.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricSum } from '../test/support/admin-metrics.ts';
import { type StreamingApp, startStreamingApp, WebSocket } from '../test/support/protocol-apps.ts';
import { eventually, type TempPolicy, tempPolicy } from '../test/support/temp-policy.ts';
import { startTestEnforcer } from '../test/support/test-enforcer.ts';
import { demoToken } from '../test/support/tokens.ts';
import type { RunningEnforcer } from './enforcer.ts';

const POLICY = `
apiVersion: riskgate.dev/v1alpha1
kind: RiskPolicy
metadata: {name: websockets}
spec:
  selector: {}
  clientIdentity: {trustedProxies: [127.0.0.0/8]}
  authentication:
    jwt:
      - {name: demo, issuer: https://issuer.demo.riskgate.dev, audiences: [shop-api], keysFile: keys/demo-issuer.jwks.json, algorithms: [ES256]}
  routes:
    - {name: admin, methods: [GET], path: /admin/*, authentication: required}
    - {name: chat, methods: [GET], path: /chat, sensitivity: high}
  signals:
    ipReputation:
      weight: 90
      feeds: [{name: bad, file: bad.txt, format: plain, category: botnet}]
`;

const BAD_IP = '203.0.113.7';
let app: StreamingApp;
let policy: TempPolicy;
let enforcer: RunningEnforcer;
let port: number;

/** Raw bytes in, raw bytes out: what a client that speaks its own HTTP sees. */
function exchange(text: string, waitMs = 400): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let out = '';
    socket.on('data', (d) => {
      out += d.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(out));
    socket.write(text);
    setTimeout(() => socket.destroy(), waitMs);
  });
}

function upgradeHead(path: string, extra = '') {
  return (
    `GET ${path} HTTP/1.1\r\nHost: app\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
    `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`
  );
}

function openSocket(path: string, headers: Record<string, string> = {}, protocols?: string[]) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, protocols, { headers });
  const opened = new Promise<{ ok: true } | { ok: false; status: number; body: string }>((resolve) => {
    ws.once('open', () => resolve({ ok: true }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ ok: false, status: res.statusCode ?? 0, body }));
    });
    ws.once('error', () => resolve({ ok: false, status: 0, body: '' }));
  });
  return { ws, opened };
}

const metric = (name: string) => metricSum(enforcer.adminUrl, name);

beforeAll(async () => {
  app = await startStreamingApp();
  policy = tempPolicy(POLICY, { 'bad.txt': '203.0.113.0/24\n' });
  enforcer = await startTestEnforcer(policy.file, app.url, { webSocketIdleTimeoutMs: 1500 });
  port = Number(new URL(enforcer.trafficUrl).port);
});

afterAll(async () => {
  await enforcer?.close();
  await app?.close();
  policy?.remove();
});

describe('a refused upgrade never switches protocols and never reaches the app', () => {
  it('from a blocklisted address: 403 problem document, no 101, the app sees no upgrade', async () => {
    const before = app.upgrades.length;
    const { ws, opened } = openSocket('/chat', { 'x-forwarded-for': BAD_IP });
    const result = await opened;
    ws.terminate();
    expect(result).toMatchObject({ ok: false, status: 403 });
    expect(JSON.parse((result as { body: string }).body)).toMatchObject({ code: 'RG_ERR_DENIED' });
    expect(app.upgrades.length).toBe(before);
  });

  it.each([
    ['Upgrade: websocket', ''],
    ['Upgrade: WebSocket (case)', ''],
    ['a bearer token that does not verify', 'Authorization: Bearer not.a.token\r\n'],
  ])('to a route that requires a token, %s → 401 and the socket closes', async (name, extra) => {
    const before = app.upgrades.length;
    const head = name.includes('(case)')
      ? upgradeHead('/admin/ws', extra).replace('Upgrade: websocket', 'Upgrade: WebSocket')
      : upgradeHead('/admin/ws', extra);
    // Frames written at once after the upgrade request, hoping the socket is switched anyway.
    const out = await exchange(`${head}\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58`);
    expect(out).toMatch(/^HTTP\/1\.1 401 /);
    expect(out).not.toMatch(/101 Switching/);
    expect(out.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(app.upgrades.length).toBe(before);
  });

  it('a second request smuggled after a refused upgrade on the same socket is never read', async () => {
    const before = app.requests.length;
    const out = await exchange(`${upgradeHead('/admin/ws')}GET /after HTTP/1.1\r\nHost: app\r\n\r\n`);
    expect(out.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(app.requests.slice(before).map((r) => r.url)).not.toContain('/after');
  });

  it('Upgrade: h2c is answered as HTTP/1.1, and the app gets no Upgrade header', async () => {
    const before = app.requests.length;
    const out = await exchange(
      'GET /plain HTTP/1.1\r\nHost: app\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n',
    );
    expect(out).toMatch(/^HTTP\/1\.1 200 /);
    const seen = app.requests.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers['upgrade']).toBeUndefined();
    expect(seen[0]!.headers['http2-settings']).toBeUndefined();
  });

  it('a WebSocket upgrade by POST is not an upgrade (RFC 6455 requires GET)', async () => {
    const out = await exchange(upgradeHead('/chat').replace('GET', 'POST'));
    expect(out).not.toMatch(/101 Switching/);
  });

  it('refusals are counted', async () => {
    expect(await metric('riskgate_websocket_upgrades_total{result="refused"}')).toBeGreaterThanOrEqual(4);
  });
});

describe('an allowed upgrade is tunnelled both ways', () => {
  it('echoes text and binary, with the subprotocol the app chose and the decision headers it was given', async () => {
    const before = app.upgrades.length;
    const { ws, opened } = openSocket('/chat', { 'x-riskgate-decision': 'allow-forged' }, ['chat.v1']);
    expect(await opened).toEqual({ ok: true });
    expect(ws.protocol).toBe('chat.v1');
    const replies: string[] = [];
    ws.on('message', (d) => replies.push(d.toString()));
    ws.send('hello');
    ws.send(Buffer.from([1, 2, 3]));
    expect(await eventually(() => replies.length === 2, 5000)).toBe(true);
    expect(replies[0]).toBe('hello');
    const seen = app.upgrades.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers['x-riskgate-decision']).toBe('allow');
    expect(seen[0]!.headers['x-riskgate-request-id']).toBeTruthy();
    ws.close();
  });

  it('a token on the upgrade reaches a protected route, and the app sees the subject', async () => {
    const token = await demoToken({ sub: 'alice' });
    const before = app.upgrades.length;
    const { ws, opened } = openSocket('/admin/ws', { authorization: `Bearer ${token}` });
    expect(await opened).toEqual({ ok: true });
    expect(app.upgrades.slice(before)[0]!.headers['x-riskgate-subject']).toBe('alice');
    ws.close();
  });

  it('an app that declines the upgrade has its answer passed on, and nothing switches', async () => {
    const out = await exchange(upgradeHead('/app-refuses'));
    expect(out).toMatch(/^HTTP\/1\.1 403 /);
    expect(out).toContain('not you');
    expect(out).not.toMatch(/101 Switching/);
  });

  it('a client that stops reading holds the app back (backpressure), and then gets every byte', async () => {
    const { ws, opened } = openSocket('/chat');
    expect(await opened).toEqual({ ok: true });
    const raw = (ws as unknown as { _socket: import('node:net').Socket })._socket;
    raw.pause();
    ws.send('push 48');
    // The app cannot hand 48 MiB to the kernel while the client reads nothing: most of it waits
    // in the app's own buffer — the enforcer did not swallow it.
    // ws queues all 48 MiB at once; a second later, had the enforcer read on regardless, the app's
    // queue would be empty.
    await new Promise((r) => setTimeout(r, 1000));
    expect(Math.max(...[...app.sockets].map((s) => s.bufferedAmount))).toBeGreaterThan(16 << 20);
    let received = 0;
    ws.on('message', (d: Buffer) => {
      received += d.length;
    });
    raw.resume();
    expect(await eventually(() => received === 48 << 20, 20_000)).toBe(true);
    ws.close();
  });

  it('a tunnel quiet in both directions past the idle timeout is closed, and counted', async () => {
    const { ws, opened } = openSocket('/chat');
    expect(await opened).toEqual({ ok: true });
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    const started = Date.now();
    await closed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(await eventually(async () => (await metric('riskgate_websocket_connections ')) === 0, 5000)).toBe(
      true,
    );
    expect(await metric('riskgate_websocket_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(await metric('riskgate_websocket_upgrades_total{result="tunnelled"}')).toBeGreaterThanOrEqual(3);
  });

  it('a tunnel with traffic outlives the idle timeout', async () => {
    const { ws, opened } = openSocket('/chat');
    expect(await opened).toEqual({ ok: true });
    let replies = 0;
    ws.on('message', () => replies++);
    for (let i = 0; i < 6; i++) {
      ws.send(`tick ${i}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(ws.readyState).toBe(WebSocket.OPEN);
    expect(replies).toBe(6);
    ws.close();
  });
});

describe('streaming HTTP/1.1', () => {
  it('server-sent events arrive as the app sends them, not when it finishes', async () => {
    const res = await fetch(`${enforcer.trafficUrl}/events`);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toBe('data: first\n\n');
    app.releaseEvents();
    const second = new TextDecoder().decode((await reader.read()).value);
    expect(second).toBe('data: second\n\n');
  });

  it('Expect: 100-continue gets 100 Continue, and the body reaches the app whole', async () => {
    const body = Buffer.alloc(3 << 20, 'a');
    const result = await new Promise<{ continued: boolean; status: number; text: string }>(
      (resolve, reject) => {
        let continued = false;
        const req = httpRequest(
          `${enforcer.trafficUrl}/upload`,
          { method: 'PUT', headers: { expect: '100-continue', 'content-length': body.length } },
          (res) => {
            let text = '';
            res.on('data', (d: Buffer) => {
              text += d.toString();
            });
            res.on('end', () => resolve({ continued, status: res.statusCode ?? 0, text }));
          },
        );
        req.on('continue', () => {
          continued = true;
          req.end(body);
        });
        req.on('error', reject);
      },
    );
    expect(result.continued).toBe(true);
    expect(result.status).toBe(200);
    expect(JSON.parse(result.text).bytes).toBe(body.length);
  });

  it('a 256 MiB chunked upload streams through without being held in memory', async () => {
    const chunk = Buffer.alloc(1 << 20, 'z');
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const watch = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const result = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(`${enforcer.trafficUrl}/upload`, { method: 'POST' }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => {
          text += d.toString();
        });
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      let sent = 0;
      const write = () => {
        while (sent < 256) {
          sent++;
          if (!req.write(chunk)) {
            req.once('drain', write);
            return;
          }
        }
        req.end();
      };
      write();
    });
    clearInterval(watch);
    expect(JSON.parse(result).bytes).toBe(256 << 20);
    // Client, enforcer and app share this process: had any of them held the body, 256 MiB would show.
    expect(peak - rssBefore).toBeLessThan(128 << 20);
  });
});

describe('stopping', () => {
  it('an open tunnel gets a close frame 1001 (going away) when the enforcer stops', async () => {
    const other = await startTestEnforcer(policy.file, app.url);
    const ws = new WebSocket(`${other.trafficUrl.replace('http', 'ws')}/chat`);
    await new Promise((r) => ws.once('open', r));
    const code = new Promise<number>((r) => ws.once('close', (c) => r(c)));
    await other.close();
    expect(await code).toBe(1001);
  });
});
