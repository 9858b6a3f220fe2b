/**
 * The floods of the penetration test against the real enforcer process — `riskgate enforce`
 * with its production Node flags and environment (and the heap ceiling the injector sets for a
 * 384 MiB sidecar), a real Redis, a real app — each with a
 * legitimate client asking all along. The enforcer's RSS is read from /proc while the flood
 * runs; it must stay well under the sidecar's memory limit (384 MiB), and the legitimate client
 * must keep being answered. The observed rows are a table of docs/security.md.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_FLAGS, PROCESS_ENV } from '../../cli/node-flags.ts';
import { heapCeilingMiB } from '../../contract/sidecar.ts';
import { freePort } from '../support/free-port.ts';
import { type RecordingUpstream, startRecordingUpstream } from '../support/recording-upstream.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { eventually, type TempPolicy, tempPolicy } from '../support/temp-policy.ts';

const SIDECAR_LIMIT_MB = 384;
/** What the enforcer may hold during a flood: the limit, less a quarter of headroom. */
const BUDGET_MB = 288;

const POLICY = `
apiVersion: riskgate.dev/v1alpha1
kind: RiskPolicy
metadata: {name: hostile-load, namespace: load}
spec:
  selector: {}
  clientIdentity: {trustedProxies: [127.0.0.0/8]}
  authentication:
    jwt:
      - {name: demo, issuer: https://issuer.demo.riskgate.dev, audiences: [shop-api], keysFile: keys/demo-issuer.jwks.json, algorithms: [ES256]}
  routes:
    - {name: login, methods: [POST], path: /login, sensitivity: high, role: login, login: {failureStatuses: [401]}}
    - {name: catalogue, methods: [GET], path: /products/*, sensitivity: low}
  signals:
    geoip: {}
    credentialStuffing: {}
    loginFamiliarity: {}
`;

let redis: RedisServer & { destroy?: () => Promise<void> };
let app: RecordingUpstream;
let policy: TempPolicy;
let enforcer: ChildProcess;
let port: number;
const rows: string[] = [];

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(m?.[1] ?? 0) / 1024);
}

/** Runs `flood` while sampling the enforcer's RSS and asking as a legitimate client. */
async function underFlood(name: string, flood: () => Promise<string>) {
  const pid = enforcer.pid!;
  const before = rssMb(pid);
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMb(pid));
  }, 100);
  const legit = new Pool(`http://127.0.0.1:${port}`, {
    connections: 1,
    headersTimeout: 5000,
    bodyTimeout: 5000,
  });
  let stop = false;
  const answers: number[] = [];
  const asking = (async () => {
    while (!stop) {
      try {
        const res = await legit.request({
          path: '/products/1',
          method: 'GET',
          headers: { 'x-forwarded-for': '91.64.10.7' },
        });
        await res.body.dump();
        answers.push(res.statusCode);
      } catch {
        answers.push(0);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const what = await flood();
  stop = true;
  await asking;
  await legit.close();
  clearInterval(sampler);
  const answered = answers.filter((s) => s === 200).length;
  rows.push(`| ${name} | ${what} | ${before} → ${peak} MB | ${answered} of ${answers.length} answered 200 |`);
  return { peak, answers };
}

/** `total` requests over `connections` connections. */
async function blast(
  total: number,
  connections: number,
  next: (i: number) => Parameters<Pool['request']>[0],
) {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections, headersTimeout: 30_000 });
  const statuses = new Map<number, number>();
  let i = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (i < total) {
        const res = await pool.request(next(i++)).catch(() => undefined);
        if (!res) {
          statuses.set(0, (statuses.get(0) ?? 0) + 1);
          continue;
        }
        await res.body.dump();
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      }
    }),
  );
  await pool.close();
  return [...statuses.entries()].map(([s, n]) => `${n} × ${s}`).join(', ');
}

const ip = (i: number) => `100.${64 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}`;

beforeAll(async () => {
  redis = await startRedisServer();
  app = await startRecordingUpstream();
  app.respond = (req, res) => {
    res.statusCode = req.url?.startsWith('/login') ? 401 : 200;
    res.end('{}');
  };
  policy = tempPolicy(POLICY);
  port = await freePort();
  const admin = await freePort();
  enforcer = spawn(
    process.execPath,
    [
      ...NODE_FLAGS,
      // What the injector sets for the sidecar's memory limit (contract/sidecar.ts).
      `--max-old-space-size=${heapCeilingMiB(`${SIDECAR_LIMIT_MB}Mi`)}`,
      join(import.meta.dirname, '../../cli/main.ts'),
      'enforce',
      '--policy',
      policy.file,
      '--upstream',
      app.url,
      '--listen',
      `127.0.0.1:${port}`,
      '--admin',
      `127.0.0.1:${admin}`,
      '--redis',
      redis.url,
      '--log-allow-sample',
      '0',
    ],
    { stdio: 'ignore', env: { ...process.env, ...PROCESS_ENV, RISKGATE_LOG_LEVEL: 'warn' } },
  );
  const ready = await eventually(async () => {
    try {
      const res = await fetch(`http://127.0.0.1:${admin}/readyz`);
      return res.status === 200;
    } catch {
      return false;
    }
  }, 30_000);
  expect(ready).toBe(true);
}, 60_000);

afterAll(async () => {
  enforcer?.kill('SIGTERM');
  await app?.close();
  await redis?.destroy?.();
  policy?.remove();
});

describe('floods against the enforcer process', () => {
  it('20,000 garbage bearer tokens of 15 KB', async () => {
    const garbage = randomBytes(11_000).toString('base64url');
    const { peak, answers } = await underFlood('20,000 garbage bearer tokens of 15 KB', () =>
      blast(20_000, 32, (i) => ({
        path: '/products/1',
        method: 'GET',
        headers: { authorization: `Bearer ${garbage}${i}`, 'x-forwarded-for': ip(i) },
      })),
    );
    expect(peak).toBeLessThan(BUDGET_MB);
    expect(answers.every((s) => s === 200)).toBe(true);
  });

  it('20,000 forwarded addresses with 8 KB zone ids', async () => {
    const zone = 'z'.repeat(8192);
    const { peak, answers } = await underFlood('20,000 X-Forwarded-For hops with 8 KB zone ids', () =>
      blast(20_000, 32, (i) => ({
        path: '/products/1',
        method: 'GET',
        headers: { 'x-forwarded-for': `${ip(i)}%${zone}` },
      })),
    );
    expect(peak).toBeLessThan(BUDGET_MB);
    expect(answers.every((s) => s === 200)).toBe(true);
  });

  it('20,000 failed logins with unique 256-character accounts', async () => {
    const { peak, answers } = await underFlood('20,000 failed logins, unique 256-character accounts', () =>
      blast(20_000, 32, (i) => ({
        path: '/login',
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': ip(i) },
        body: JSON.stringify({ username: `${String(i).padStart(8, '0')}${'a'.repeat(248)}`, password: 'x' }),
      })),
    );
    expect(peak).toBeLessThan(BUDGET_MB);
    expect(answers.every((s) => s === 200)).toBe(true);
    // What Redis holds for them: no key carries an account name, so none grows with one.
    const client = new Redis(redis.url);
    const keys = await client.keys('rg:*');
    client.disconnect();
    const longest = Math.max(...keys.map((k) => k.length));
    rows.push(`| (Redis after the logins) | ${keys.length} keys | longest key ${longest} bytes | — |`);
    expect(longest).toBeLessThan(80);
  });

  it('4,000 login bodies of 60 KB, sent and stalled', async () => {
    const sockets: Socket[] = [];
    const answered = new Map<string, number>();
    const { peak, answers } = await underFlood(
      '4,000 login bodies of 60 KB, stalled one byte short',
      async () => {
        for (let i = 0; i < 4000; i++) {
          const s = connect(port, '127.0.0.1');
          s.on('error', () => {});
          s.on('data', (d) => {
            const status = /^HTTP\/1\.1 (\d{3})/.exec(d.toString('latin1'))?.[1] ?? 'other';
            answered.set(status, (answered.get(status) ?? 0) + 1);
          });
          s.write(
            `POST /login HTTP/1.1\r\nHost: app\r\nContent-Type: application/json\r\nX-Forwarded-For: ${ip(i)}\r\nContent-Length: 61440\r\n\r\n${'{'.padEnd(61439, ' ')}`,
          );
          sockets.push(s);
          if (i % 200 === 199) await new Promise((r) => setTimeout(r, 20));
        }
        await new Promise((r) => setTimeout(r, 12_000));
        const open = sockets.filter((s) => !s.destroyed && s.readyState === 'open').length;
        for (const s of sockets) s.destroy();
        return `${[...answered.entries()].map(([s, n]) => `${n} × ${s}`).join(', ')}; ${open} still open after 12 s`;
      },
    );
    expect(peak).toBeLessThan(BUDGET_MB);
    expect(answers.every((s) => s === 200)).toBe(true);
  });

  it('3,000 idle keep-alive connections', async () => {
    const sockets: Socket[] = [];
    const { peak, answers } = await underFlood('3,000 idle connections', async () => {
      for (let i = 0; i < 3000; i++) {
        const s = connect(port, '127.0.0.1');
        s.on('error', () => {});
        sockets.push(s);
        if (i % 200 === 199) await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 3000));
      const open = sockets.filter((s) => !s.destroyed && s.readyState === 'open').length;
      for (const s of sockets) s.destroy();
      return `${open} of 3000 still open`;
    });
    expect(peak).toBeLessThan(BUDGET_MB);
    expect(answers.every((s) => s === 200)).toBe(true);
  });
});

describe('docs/security.md', () => {
  it('shows the flood table these tests observed', () => {
    expect(rows.length).toBeGreaterThanOrEqual(5);
    const table = [
      `| flood (sidecar limit ${SIDECAR_LIMIT_MB} MiB) | what came back | enforcer RSS, before → peak | a legitimate client meanwhile |`,
      '| --- | --- | --- | --- |',
      ...rows,
    ].join('\n');
    const doc = readFileSync('docs/security.md', 'utf8');
    const start = '<!-- floods:start -->';
    const end = '<!-- floods:end -->';
    const from = doc.indexOf(start);
    const to = doc.indexOf(end);
    expect(from, 'docs/security.md has floods markers').toBeGreaterThan(-1);
    // The numbers move from run to run: the table is rewritten with UPDATE_SECURITY_DOC=1, and
    // otherwise only its rows' shape is checked.
    if (process.env['UPDATE_SECURITY_DOC']) {
      writeFileSync('docs/security.md', `${doc.slice(0, from + start.length)}\n${table}\n${doc.slice(to)}`);
      return;
    }
    const committed = doc
      .slice(from + start.length, to)
      .trim()
      .split('\n');
    expect(committed.map((r) => r.split('|')[1])).toEqual(table.split('\n').map((r) => r.split('|')[1]));
  });
});
