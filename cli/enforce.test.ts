/**
 * The quickstart promise, end to end: `bin/riskgate enforce --policy examples/quickstart.yaml`
 * as a real process in front of a real HTTP app.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../test/support/free-port.ts';
import { type RecordingUpstream, startRecordingUpstream } from '../test/support/recording-upstream.ts';
import { eventually } from '../test/support/temp-policy.ts';

let dir: string;
let upstream: RecordingUpstream;
let child: ChildProcess;
let traffic: string;
let admin: string;
let stderr = '';

async function get(url: string, headers: Record<string, string> = {}, method = 'GET') {
  const res = await request(url, { method: method as 'GET', headers });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'riskgate-cli-'));
  cpSync('examples', dir, { recursive: true });
  upstream = await startRecordingUpstream();
  const [tp, ap] = [await freePort(), await freePort()];
  traffic = `http://127.0.0.1:${tp}`;
  admin = `http://127.0.0.1:${ap}`;
  child = spawn(
    'bin/riskgate',
    [
      'enforce',
      '--policy',
      join(dir, 'quickstart.yaml'),
      '--upstream',
      upstream.url,
      '--listen',
      `127.0.0.1:${tp}`,
      '--admin',
      `127.0.0.1:${ap}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, RISKGATE_LOG_LEVEL: 'warn' } },
  );
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const up = await eventually(async () => {
    try {
      return (await get(`${admin}/readyz`)).status === 200;
    } catch {
      return false;
    }
  }, 20_000);
  if (!up) throw new Error(`enforcer did not start: ${stderr}`);
});

afterAll(async () => {
  child?.kill('SIGTERM');
  await new Promise((r) => child?.once('exit', r));
  await upstream?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('riskgate enforce --policy examples/quickstart.yaml', () => {
  it('proxies a normal GET with the three headers, never the client’s own', async () => {
    const res = await get(`${traffic}/products/42`, {
      'x-riskgate-score': '0',
      'x-riskgate-decision': 'allow',
    });
    expect(res.status).toBe(200);
    const seen = upstream.requests.at(-1)!;
    expect(Number(seen.headers['x-riskgate-score'])).toBe(0);
    expect(seen.headers['x-riskgate-decision']).toBe('allow');
    expect(seen.headers['x-riskgate-request-id']).toBeTruthy();
  });

  it('denies 203.0.113.9 via X-Forwarded-For from loopback with problem+json', async () => {
    const before = upstream.requests.length;
    const res = await get(`${traffic}/products/42`, { 'x-forwarded-for': '203.0.113.9' });
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(JSON.parse(res.text).code).toBe('RG_ERR_DENIED');
    expect(upstream.requests.length).toBe(before);
  });

  it('answers POST /transfer without a valid token with 401', async () => {
    expect((await get(`${traffic}/transfer`, {}, 'POST')).status).toBe(401);
    expect((await get(`${traffic}/transfer`, { authorization: 'Bearer x.y.z' }, 'POST')).status).toBe(401);
  });

  it('counts the decisions in /metrics', async () => {
    const metrics = await get(`${admin}/metrics`);
    expect(metrics.text).toMatch(
      /riskgate_decisions_total\{policy="quickstart",route="catalogue",decision="deny",mode="enforce"\} 1/,
    );
    expect(metrics.text).toMatch(
      /riskgate_decisions_total\{policy="quickstart",route="catalogue",decision="allow",mode="enforce"\} 1/,
    );
  });

  it('takes a CIDR added to the feed file into account within 10 seconds, without a restart', async () => {
    expect((await get(`${traffic}/products/1`, { 'x-forwarded-for': '100.70.0.5' })).status).toBe(200);
    appendFileSync(join(dir, 'feeds', 'blocklist.txt'), '100.70.0.0/16\n');
    const started = Date.now();
    const denied = await eventually(
      async () => (await get(`${traffic}/products/1`, { 'x-forwarded-for': '100.70.0.5' })).status === 403,
      10_000,
      200,
    );
    expect(denied).toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('riskgate explain', () => {
  it('prints every contribution and the decision', async () => {
    const out = await new Promise<string>((resolve) => {
      const p = spawn('bin/riskgate', [
        'explain',
        '--policy',
        'examples/quickstart.yaml',
        '--request',
        '{"path":"/products/1","headers":{"x-forwarded-for":"203.0.113.9"}}',
      ]);
      let text = '';
      p.stdout.on('data', (d: Buffer) => {
        text += d.toString();
      });
      p.on('exit', () => resolve(text));
    });
    expect(out).toMatch(/\+ 90\s+ip\.reputation\s+demo-blocklist \(botnet\)/);
    expect(out).toMatch(/decision deny/);
  });
});
