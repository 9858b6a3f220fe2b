/**
 * Enforcers sharing one real Redis: an attack split between them is seen whole, Redis loss
 * costs no request, and failMode decides what happens to requests that needed shared state.
 */
import { Redis } from 'ioredis';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDelayProxy } from '../test/support/delay-proxy.ts';
import { type RecordingUpstream, startRecordingUpstream } from '../test/support/recording-upstream.ts';
import { type RedisServer, startRedisServer } from '../test/support/redis-server.ts';
import { checkSecurityRow } from '../test/support/security-doc.ts';
import { eventually, type TempPolicy, tempPolicy } from '../test/support/temp-policy.ts';
import { startTestEnforcer } from '../test/support/test-enforcer.ts';
import type { RunningEnforcer } from './enforcer.ts';

const POLICY = `
apiVersion: riskgate.dev/v1alpha1
kind: RiskPolicy
metadata: {name: shared, namespace: test}
spec:
  selector: {}
  failMode: open
  clientIdentity: {trustedProxies: [127.0.0.0/8]}
  routes:
    - {name: login, methods: [POST], path: /login, sensitivity: high, role: login, login: {failureStatuses: [401]}}
    - {name: admin-login, methods: [POST], path: /admin/login, sensitivity: high, role: login, failMode: closed}
  signals:
    credentialStuffing:
      weight: 70
      window: 10m
      thresholds: {perIp: 1000, perAsn: 1000, perAccount: 4, perCredential: 1000, global: 100000, distinctAccountsPerIp: 1000}
`;

let redis: RedisServer & { destroy?: () => Promise<void> };
let upstream: RecordingUpstream;
let policy: TempPolicy;
let a: RunningEnforcer;
let b: RunningEnforcer;

const start = () =>
  startTestEnforcer(policy.file, upstream.url, {
    redisUrl: redis.url,
    redisTimeoutMs: 200,
  });

async function login(base: string, account: string, ip: string, path = '/login') {
  const res = await request(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
    body: JSON.stringify({ username: account, password: 'wrong' }),
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    code: text.startsWith('{"type"') ? (JSON.parse(text).code as string) : undefined,
  };
}

beforeAll(async () => {
  redis = await startRedisServer();
  upstream = await startRecordingUpstream();
  upstream.respond = (_req, res) => {
    res.statusCode = 401;
    res.end('{"error":"bad credentials"}');
  };
  policy = tempPolicy(POLICY);
  a = await start();
  b = await start();
  const client = new Redis(redis.url);
  await eventually(async () => (await client.ping()) === 'PONG');
  client.disconnect();
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await upstream?.close();
  await redis?.destroy?.();
  policy?.remove();
});

async function attack(account: string, targets: RunningEnforcer[]) {
  const before = upstream.requests.length;
  const outcomes: string[] = [];
  for (let i = 0; i < 10; i++) {
    const r = await login(targets[i % targets.length]!.trafficUrl, account, `100.2.${i}.1`);
    outcomes.push(r.code ?? String(r.status));
  }
  return { reached: upstream.requests.length - before, outcomes };
}

/** A login carrying a proof-of-work answer, or none: its status and problem document. */
async function loginAnswering(base: string, path: string, account: string, ip: string, answer?: string) {
  const res = await request(`${base}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-forwarded-for': ip,
      ...(answer ? { 'x-riskgate-pow': answer } : {}),
    },
    body: JSON.stringify({ username: account, password: 'wrong' }),
  });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

/**
 * Fails `account`'s login four times from `${net}.i.1`, so the next, from `${net}.9.9`, is
 * challenged; returns the challenge's solution.
 */
async function solvedChallenge(base: string, path: string, account: string, net: string) {
  for (let i = 0; i < 4; i++) await login(base, account, `${net}.${i}.1`, path);
  const challenged = await loginAnswering(base, path, account, `${net}.9.9`);
  expect(challenged.body['code']).toBe('RG_ERR_PROOF_OF_WORK_REQUIRED');
  const pow = challenged.body['proofOfWork'] as { challenge: string; difficulty: number };
  const { solve } = await import('./actions/proof-of-work.ts');
  return solve(pow.challenge, pow.difficulty)!;
}

/** An enforcer reaching Redis through a delaying proxy (`delayMs` as startDelayProxy takes it), once connected. */
async function enforcerBehindDelayProxy(delayMs: Parameters<typeof startDelayProxy>[1]) {
  const proxy = await startDelayProxy(redis.port, delayMs);
  const enforcer = await startTestEnforcer(policy.file, upstream.url, {
    redisUrl: `redis://127.0.0.1:${proxy.port}`,
    redisTimeoutMs: 50,
  });
  await eventually(async () => {
    const m = await request(`${enforcer.adminUrl}/metrics`);
    return (await m.body.text()).includes('riskgate_redis_up 1');
  });
  return {
    enforcer,
    close: async () => {
      await enforcer.close();
      await proxy.close();
    },
  };
}

describe('two enforcers, one Redis', () => {
  it('take a proof-of-work solution once between them', async () => {
    const powKey = Buffer.alloc(32, 9);
    const [c, d] = [
      await startTestEnforcer(policy.file, upstream.url, {
        redisUrl: redis.url,
        redisTimeoutMs: 200,
        powKey,
      }),
      await startTestEnforcer(policy.file, upstream.url, {
        redisUrl: redis.url,
        redisTimeoutMs: 200,
        powKey,
      }),
    ];
    try {
      const answer = await solvedChallenge(c.trafficUrl, '/login', 'pow-victim', '100.4');
      const send = (base: string, answer: string) =>
        loginAnswering(base, '/login', 'pow-victim', '100.4.9.9', answer);
      // Solved at one enforcer, presented at the other: it passes there, once.
      expect((await send(d.trafficUrl, answer)).status).toBe(401); // the app's answer: wrong password
      const replayed = await send(c.trafficUrl, answer);
      expect(replayed.body['code']).toBe('RG_ERR_PROOF_OF_WORK_REQUIRED');
    } finally {
      await c.close();
      await d.close();
    }
  });

  it('refuse a proof-of-work solution on a failMode: closed route when Redis cannot claim it, and take it locally on an open one', async () => {
    // Reads answer at once until a claim (SET … NX) goes out; it, and what follows it on the
    // connection, is held past the enforcer's Redis timeout, so a request gets as far as
    // presenting its solution before shared state fails it.
    let holdClaims = false;
    const slow = await enforcerBehindDelayProxy((chunk, toRedis) =>
      holdClaims && toRedis && chunk.includes('\r\nNX\r\n') ? 400 : 0,
    );
    const base = slow.enforcer.trafficUrl;
    try {
      const send = (path: string, account: string, ip: string, answer?: string) =>
        loginAnswering(base, path, account, ip, answer);
      const closedAnswer = await solvedChallenge(base, '/admin/login', 'closed-claim', '100.6');
      const openAnswer = await solvedChallenge(base, '/login', 'open-claim', '100.6');
      const twiceAnswer = await solvedChallenge(base, '/login', 'open-twice', '100.7');
      holdClaims = true;
      const closed = await send('/admin/login', 'closed-claim', '100.6.9.9', closedAnswer);
      expect({ status: closed.status, code: closed.body['code'] }).toEqual({
        status: 503,
        code: 'RG_ERR_STATE_UNAVAILABLE',
      });
      const open = await send('/login', 'open-claim', '100.6.9.9', openAnswer);
      expect(open.status).toBe(401); // passed, decided locally: the app's answer
      // Claimed here all the same: a replay at this enforcer is refused without Redis.
      const replayed = await send('/login', 'open-claim', '100.6.9.9', openAnswer);
      expect(replayed.body['code']).toBe('RG_ERR_PROOF_OF_WORK_REQUIRED');
      // The same solution sent twice at once while Redis cannot claim it: one passes, not both.
      const both = await Promise.all(
        [0, 1].map(() => send('/login', 'open-twice', '100.7.9.9', twiceAnswer)),
      );
      expect(both.map((r) => r.status).sort()).toEqual([401, 401]);
      expect(both.filter((r) => r.body['code'] === 'RG_ERR_PROOF_OF_WORK_REQUIRED')).toHaveLength(1);
      checkSecurityRow(
        'fault-redis-claim',
        `closed route: ${closed.status} \`${closed.body['code']}\`; open route: passed once (${open.status} from the app), the replay challenged again`,
      );
    } finally {
      await slow.close();
    }
  });

  it('block an attack split between them as early as one enforcer would', async () => {
    const alone = await attack('victim-one@example.com', [a]);
    const split = await attack('victim-two@example.com', [a, b]);
    expect(alone.reached).toBe(3);
    expect(split.reached).toBe(alone.reached);
    expect(split.outcomes.slice(alone.reached).every((o) => o.startsWith('RG_ERR_'))).toBe(true);
  });

  it('keep answering through a Redis kill and restart, with no 5xx, and resume shared counting', async () => {
    const statuses: number[] = [];
    let stop = false;
    const clients = Array.from({ length: 8 }, async (_, c) => {
      for (let i = 0; !stop; i++) {
        const r = await login(i % 2 ? a.trafficUrl : b.trafficUrl, `load-${c}-${i}`, `100.3.${c}.${i % 250}`);
        statuses.push(r.status);
      }
    });
    await new Promise((r) => setTimeout(r, 300));
    await redis.stop();
    await new Promise((r) => setTimeout(r, 800));
    const duringOutage = statuses.length;
    await redis.start();
    await eventually(async () => {
      const m = await request(`${a.adminUrl}/metrics`);
      return (await m.body.text()).includes('riskgate_redis_up 1');
    }, 15_000);
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await Promise.all(clients);
    expect(statuses.length).toBeGreaterThan(duringOutage);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(new Set(statuses)).toEqual(new Set([401]));

    const after = await attack('victim-three@example.com', [a, b]);
    expect(after.reached).toBe(3);
    checkSecurityRow(
      'fault-redis-kill',
      `every request answered by the app (401), 0 5xx; after the restart, an attack split across both enforcers reached the app ${after.reached} times, as with one`,
    );
  }, 60_000);

  it('keep deciding within the Redis timeout when Redis is slow: every request answered, failMode obeyed', async () => {
    let delay = 0;
    const slow = await enforcerBehindDelayProxy(() => delay);
    const viaSlow = slow.enforcer;
    try {
      delay = 400; // every Redis answer now takes longer than the 50 ms the enforcer waits
      const outcomes: string[] = [];
      await Promise.all(
        Array.from({ length: 6 }, async (_, c) => {
          for (let i = 0; i < 10; i++) {
            const path = i % 2 ? '/admin/login' : '/login';
            const r = await login(viaSlow.trafficUrl, `slow-${c}-${i}`, `100.5.${c}.${i}`, path);
            outcomes.push(`${path} ${r.code ?? r.status}`);
          }
        }),
      );
      expect(outcomes).toHaveLength(60);
      expect(new Set(outcomes)).toEqual(new Set(['/login 401', '/admin/login RG_ERR_STATE_UNAVAILABLE']));
      checkSecurityRow(
        'fault-redis-slow',
        `${outcomes.length} of 60 answered: open routes decided locally (401 from the app), closed routes 503 \`RG_ERR_STATE_UNAVAILABLE\`; 0 5xx otherwise`,
      );
      const metrics = await (await request(`${viaSlow.adminUrl}/metrics`)).body.text();
      expect(Number(/riskgate_redis_errors (\d+)/.exec(metrics)?.[1])).toBeGreaterThan(0);
    } finally {
      await slow.close();
    }
  });

  it('answer 503 on a failMode: closed route while Redis is down, and decide locally elsewhere', async () => {
    await redis.stop();
    try {
      await eventually(async () => {
        const m = await request(`${a.adminUrl}/metrics`);
        return (await m.body.text()).includes('riskgate_redis_up 0');
      });
      const closed = await login(a.trafficUrl, 'someone', '100.4.0.1', '/admin/login');
      expect(closed).toEqual({ status: 503, code: 'RG_ERR_STATE_UNAVAILABLE' });
      const open = await login(a.trafficUrl, 'someone', '100.4.0.1');
      expect(open.status).toBe(401); // reached the app
      checkSecurityRow(
        'fault-redis-closed',
        `closed route: ${closed.status} \`${closed.code}\`; open route: ${open.status} from the app`,
      );
    } finally {
      await redis.start();
    }
  });
});
