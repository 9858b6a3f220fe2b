/**
 * The demo's traffic: legitimate users and attackers, each class a loop of real HTTP requests
 * through the enforcer. Client addresses reach the enforcer as X-Forwarded-For from loopback,
 * which the quickstart policy trusts (as it would a load balancer).
 */
import { Pool } from 'undici';
import { solve } from '../enforcer/actions/proof-of-work.ts';
import { DEMO_PASSWORD } from './shop-app.ts';

export type Outcome = 'allowed' | 'challenged' | 'restricted' | 'denied' | 'refused' | 'error';

export interface ClassResult {
  name: string;
  counts: Record<Outcome, number>;
  /** Requests the app itself answered. */
  reachedApp: number;
  /** Challenges this class solved (browsers run the proof of work; bots in the demo do not). */
  solved: number;
}

export interface TrafficOptions {
  enforcerUrl: string;
  durationMs: number;
  token: (sub: string) => Promise<string>;
}

const COMMON_PASSWORDS = [
  '123456',
  'password',
  'qwerty',
  '111111',
  'letmein',
  'dragon',
  'iloveyou',
  'monkey',
];

function classify(status: number, body: string): Outcome {
  if (status >= 500) return 'error';
  if (!body.startsWith('{"type":"about:blank"')) return 'allowed';
  const code = /"code":"(RG_ERR_[A-Z_]+)"/.exec(body)?.[1];
  if (code === 'RG_ERR_DENIED') return 'denied';
  if (code === 'RG_ERR_PROOF_OF_WORK_REQUIRED' || code === 'RG_ERR_STEP_UP_REQUIRED') return 'challenged';
  if (code === 'RG_ERR_RESTRICTED' || code === 'RG_ERR_RATE_LIMITED') return 'restricted';
  return 'refused';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function playTraffic(options: TrafficOptions): Promise<ClassResult[]> {
  const pool = new Pool(options.enforcerUrl, { connections: 32 });
  const deadline = Date.now() + options.durationMs;
  const results: ClassResult[] = [];

  interface Planned {
    path: string;
    method?: string;
    headers: Record<string, string>;
    body?: string;
  }
  const send = async (r: Planned) => {
    const res = await pool.request({
      path: r.path,
      method: (r.method ?? 'GET') as 'GET',
      headers: r.headers,
      body: r.body ?? null,
    });
    const text = await res.body.text();
    return { outcome: classify(res.statusCode, text), text };
  };

  async function run(
    name: string,
    everyMs: number,
    solvesChallenges: boolean,
    next: (i: number) => Promise<Planned>,
  ) {
    const result: ClassResult = {
      name,
      counts: { allowed: 0, challenged: 0, restricted: 0, denied: 0, refused: 0, error: 0 },
      reachedApp: 0,
      solved: 0,
    };
    results.push(result);
    for (let i = 0; Date.now() < deadline; i++) {
      const r = await next(i);
      try {
        const { outcome, text } = await send(r);
        result.counts[outcome]++;
        if (outcome === 'allowed') result.reachedApp++;
        const pow = outcome === 'challenged' ? JSON.parse(text).proofOfWork : undefined;
        if (solvesChallenges && pow) {
          const answer = solve(pow.challenge, pow.difficulty);
          if (answer) {
            const retry = await send({ ...r, headers: { ...r.headers, [pow.answerHeader]: answer } });
            if (retry.outcome === 'allowed') {
              result.solved++;
              result.reachedApp++;
            }
          }
        }
      } catch {
        result.counts.error++;
      }
      await sleep(everyMs);
    }
  }

  const users = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];
  // Residential addresses in Germany (Deutsche Telekom, Vodafone): each user stays at home.
  const homeIp = (i: number) =>
    i % 2 ? `80.130.${10 + (i % users.length)}.20` : `91.64.${10 + (i % users.length)}.7`;
  const json = { 'content-type': 'application/json' };
  const tokens = new Map<string, string>();
  for (const u of users) tokens.set(u, await options.token(u));

  await Promise.all([
    run('legitimate: browsing', 15, true, async (i) => ({
      path: `/products/${(i * 7) % 500}`,
      headers: {
        'x-forwarded-for': homeIp(i),
        'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0',
      },
    })),
    run('legitimate: login', 250, true, async (i) => {
      const user = users[i % users.length]!;
      const typo = i % 17 === 5;
      return {
        path: '/login',
        method: 'POST',
        headers: { ...json, 'x-forwarded-for': homeIp(i % users.length) },
        body: JSON.stringify({
          username: user,
          password: typo ? 'correct-horse-battery-stapel' : DEMO_PASSWORD,
        }),
      };
    }),
    run('legitimate: transfer', 400, true, async (i) => {
      const user = users[i % users.length]!;
      return {
        path: '/transfer',
        method: 'POST',
        headers: {
          ...json,
          authorization: `Bearer ${tokens.get(user)}`,
          'x-forwarded-for': homeIp(i % users.length),
        },
        body: JSON.stringify({ to: 'DE89370400440532013000', amount: 25 }),
      };
    }),
    run('attack: known-bad IPs', 40, false, async (i) => ({
      path: i % 2 ? '/products/1' : '/login',
      method: i % 2 ? 'GET' : 'POST',
      headers: { ...json, 'x-forwarded-for': `203.0.113.${i % 250}` },
      body: i % 2 ? undefined : JSON.stringify({ username: 'admin', password: 'admin' }),
    })),
    run('attack: credential stuffing', 20, false, async (i) => ({
      path: '/login',
      method: 'POST',
      // a burst from a small botnet: 24 addresses, each cycling through accounts
      headers: {
        ...json,
        'x-forwarded-for': `198.18.${i % 3}.${10 + (i % 8)}`,
        'user-agent': 'python-requests/2.32',
      },
      body: JSON.stringify({
        username: `user${i % 400}@example.com`,
        password: COMMON_PASSWORDS[i % COMMON_PASSWORDS.length],
      }),
    })),
    run('attack: stolen token, far away', 300, false, async () => ({
      path: '/transfer',
      method: 'POST',
      // alice's token, replayed from a Tokyo datacenter minutes after she used it at home
      headers: { ...json, authorization: `Bearer ${tokens.get('alice')}`, 'x-forwarded-for': '45.77.12.9' },
      body: JSON.stringify({ to: 'attacker', amount: 9000 }),
    })),
  ]);
  await pool.close();
  return results;
}
