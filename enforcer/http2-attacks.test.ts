/**
 * HTTP/2 attacks, written frame by frame over a socket to a real enforcer (test/support/h2-frames.ts):
 * rapid reset (CVE-2023-44487), CONTINUATION flood (CVE-2024-27316), an HPACK bomb, a SETTINGS
 * flood and streams past the concurrency limit. Each must end at the attacker's connection or
 * stream — closed, counted — while a well-behaved HTTP/2 client on its own connection is served
 * throughout and the app sees (almost) none of it.
 */
import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricSum } from '../test/support/admin-metrics.ts';
import * as h2 from '../test/support/h2-frames.ts';
import { type StreamingApp, startStreamingApp } from '../test/support/protocol-apps.ts';
import { eventually, type TempPolicy, tempPolicy } from '../test/support/temp-policy.ts';
import { startTestEnforcer } from '../test/support/test-enforcer.ts';
import type { RunningEnforcer } from './enforcer.ts';

const POLICY = `
apiVersion: riskgate.dev/v1alpha1
kind: RiskPolicy
metadata: {name: http2-attacks}
spec:
  selector: {}
`;

let app: StreamingApp;
let policy: TempPolicy;
let enforcer: RunningEnforcer;
let port: number;

/** A well-behaved client's request on its own connection: the status it got. */
function legitimate(): Promise<number> {
  return new Promise((resolve) => {
    const session = http2.connect(enforcer.trafficUrl);
    session.on('error', () => resolve(0));
    const req = session.request({ ':path': '/legit' });
    req.on('response', (headers) => {
      req.resume();
      req.on('end', () => {
        session.close();
        resolve(Number(headers[':status']));
      });
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

async function attack(run: (c: h2.RawH2) => Promise<void>) {
  const before = app.requests.length;
  const c = await h2.rawH2(port);
  const flooding = run(c);
  // While the attack runs, a legitimate client is served.
  const during = await legitimate();
  await flooding;
  await Promise.race([c.closed, new Promise((r) => setTimeout(r, 2000))]);
  const after = await legitimate();
  c.socket.destroy();
  return { c, during, after, appSaw: app.requests.slice(before).filter((r) => r.url !== '/legit').length };
}

const yieldNow = () => new Promise((r) => setImmediate(r));

const metric = (name: string) => metricSum(enforcer.adminUrl, name);

beforeAll(async () => {
  app = await startStreamingApp();
  policy = tempPolicy(POLICY);
  enforcer = await startTestEnforcer(policy.file, app.url);
  port = Number(new URL(enforcer.trafficUrl).port);
});

afterAll(async () => {
  await enforcer?.close();
  await app?.close();
  policy?.remove();
});

describe('HTTP/2 attacks end at the attacker', () => {
  it('rapid reset (CVE-2023-44487): 20,000 streams opened and cancelled — the connection is closed', async () => {
    const { c, during, after, appSaw } = await attack(async (conn) => {
      for (let i = 0; i < 20_000 && !conn.socket.destroyed; i++) {
        const id = 2 * i + 1;
        conn.write(
          Buffer.concat([
            h2.frame(h2.TYPE.HEADERS, h2.FLAG.END_HEADERS | h2.FLAG.END_STREAM, id, h2.getRequest('/reset')),
            h2.rstStream(id),
          ]),
        );
        if (i % 200 === 0) await yieldNow();
      }
    });
    expect(c.socket.destroyed).toBe(true);
    expect(c.received.goaway).toBe(11); // ENHANCE_YOUR_CALM
    expect(during).toBe(200);
    expect(after).toBe(200);
    expect(appSaw).toBeLessThan(200);
  });

  it('CONTINUATION flood (CVE-2024-27316): a header block that never ends — closed at once', async () => {
    const { c, during, after, appSaw } = await attack(async (conn) => {
      conn.write(h2.frame(h2.TYPE.HEADERS, 0, 1, h2.getRequest('/continuation')));
      for (let i = 0; i < 100_000 && !conn.socket.destroyed; i++) {
        conn.write(h2.frame(h2.TYPE.CONTINUATION, 0, 1, h2.literal('x-a', 'b'.repeat(100))));
        if (i % 200 === 0) await yieldNow();
      }
    });
    expect(c.socket.destroyed).toBe(true);
    expect(c.received.goaway).toBeDefined();
    expect([during, after]).toEqual([200, 200]);
    expect(appSaw).toBe(0);
  });

  it('empty CONTINUATION frames without end — closed at once', async () => {
    const { c, appSaw } = await attack(async (conn) => {
      conn.write(h2.frame(h2.TYPE.HEADERS, 0, 1, h2.getRequest('/continuation')));
      for (let i = 0; i < 100_000 && !conn.socket.destroyed; i++) {
        conn.write(h2.frame(h2.TYPE.CONTINUATION, 0, 1));
        if (i % 200 === 0) await yieldNow();
      }
    });
    expect(c.socket.destroyed).toBe(true);
    expect(appSaw).toBe(0);
  });

  it('HPACK bomb: a 4 KB table entry referenced 300 times (1.2 MB decoded) — the stream is refused', async () => {
    const { c, during, after, appSaw } = await attack(async (conn) => {
      const block = [h2.literal('x-bomb', 'a'.repeat(4000), true)];
      for (let i = 0; i < 300; i++) block.push(h2.indexed(62));
      conn.write(
        h2.frame(h2.TYPE.HEADERS, h2.FLAG.END_HEADERS | h2.FLAG.END_STREAM, 1, h2.getRequest('/bomb', block)),
      );
    });
    expect(c.received.rstCodes.get(1) !== undefined || c.socket.destroyed).toBe(true);
    expect(c.received.headersOn.has(1)).toBe(false);
    expect([during, after]).toEqual([200, 200]);
    expect(appSaw).toBe(0);
  });

  it('SETTINGS flood from a client that reads nothing — closed', async () => {
    const { c, during, after } = await attack(async (conn) => {
      conn.socket.pause();
      for (let i = 0; i < 100_000 && !conn.socket.destroyed; i++) {
        conn.write(h2.frame(h2.TYPE.SETTINGS, 0, 0));
        if (i % 1000 === 0) await yieldNow();
      }
      conn.socket.resume();
    });
    expect(c.socket.destroyed).toBe(true);
    expect([during, after]).toEqual([200, 200]);
  });

  it('150 concurrent streams on one connection: 100 are served, the rest refused', async () => {
    const { c, appSaw } = await attack(async (conn) => {
      for (let i = 0; i < 150; i++) {
        // POST streams whose bodies never end: each holds its slot.
        const block = Buffer.concat([
          h2.indexed(3),
          h2.indexed(6),
          h2.literal(':path', '/upload'),
          h2.literal(':authority', 'app'),
        ]);
        conn.write(h2.frame(h2.TYPE.HEADERS, h2.FLAG.END_HEADERS, 2 * i + 1, block));
      }
      await new Promise((r) => setTimeout(r, 1000));
    });
    const refused = [...c.received.rstCodes.values()].filter((code) => code === 7).length;
    expect(refused).toBeGreaterThanOrEqual(50);
    expect(appSaw).toBeLessThanOrEqual(100);
  });

  it('sessions closed for breaking the protocol are counted, and none is left open', async () => {
    expect(await metric('riskgate_http2_sessions_closed_total{reason="rapid_reset"}')).toBe(1);
    expect(
      await metric('riskgate_http2_sessions_closed_total{reason="protocol_error"}'),
    ).toBeGreaterThanOrEqual(3);
    expect(await eventually(async () => (await metric('riskgate_http2_sessions ')) === 0, 5000)).toBe(true);
  });
});
