/**
 * `npm run eval`: a week of simulated traffic — legitimate people and five kinds of attack —
 * through a real enforcer with a real Redis, over HTTP. Reports per class what was allowed,
 * challenged, restricted and denied, sets a per-IP threshold baseline (what fail2ban does) on
 * the same login attempts, writes docs/evaluation.md and ends with one JSON line.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { startEnforcer } from '../enforcer/enforcer.ts';
import { asnDatabase, cityDatabase, GeoLookup } from '../enforcer/geo/geo-lookup.ts';
import { startRedisServer } from '../test/support/redis-server.ts';
import { demoToken } from '../test/support/tokens.ts';
import {
  classify,
  distributedStuffing,
  knownBad,
  makePeople,
  person,
  type Sent,
  scraper,
  stolenToken,
  type World,
} from './actors.ts';
import { startEvalApp } from './eval-app.ts';
import { report } from './report.ts';
import { rng, Simulation } from './simulation.ts';
import { samplePlace } from './world.ts';

const PEOPLE = Number(process.env['EVAL_PEOPLE'] ?? 120);
const DAYS = Number(process.env['EVAL_DAYS'] ?? 7);
const STUFFING = Number(process.env['EVAL_STUFFING'] ?? 3000);
const START = Date.UTC(2026, 10, 2, 0, 0, 0); // a Monday
const DAY = 86_400_000;

async function main() {
  const random = rng(20261127);
  const geo = new GeoLookup(cityDatabase(undefined, '.'), asnDatabase(undefined, '.'), []);
  const sim = new Simulation(START);
  const passwords = new Map<string, string>();
  const dir = mkdtempSync(join(tmpdir(), 'riskgate-eval-'));
  cpSync('examples/keys', join(dir, 'keys'), { recursive: true });
  cpSync('eval/policy.yaml', join(dir, 'policy.yaml'));
  const knownBadIps = Array.from({ length: 40 }, () => samplePlace(geo, random, 'hosting').ip);
  writeFileSync(join(dir, 'known-bad.txt'), `${knownBadIps.join('\n')}\n`);

  const redis = await startRedisServer();
  const app = await startEvalApp(passwords);
  const enforcer = await startEnforcer({
    policyPath: join(dir, 'policy.yaml'),
    upstream: app.url,
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    logLevel: process.env['EVAL_LOG'] ? 'info' : 'silent',
    logAllowSample: 0,
    redisUrl: redis.url,
    redisTimeoutMs: 1000,
    clock: () => sim.now,
  });
  const pool = new Pool(enforcer.trafficUrl, { connections: 4 });
  const sent: Sent[] = [];

  const world: World = {
    sim,
    geo,
    random,
    passwords,
    knownBadIps,
    record: (s) => sent.push(s),
    token: (user, mfa) =>
      demoToken(
        {
          sub: user,
          scope: 'payments:write orders:read',
          ...(mfa ? { acr: 'mfa', auth_time: Math.floor(sim.now / 1000) } : {}),
        },
        { expiresIn: '2h' },
      ),
    async send(r) {
      const res = await pool.request({
        method: r.method,
        path: r.path,
        headers: {
          'x-forwarded-for': r.ip,
          ...(r.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...r.headers,
        },
        body: r.body === undefined ? null : JSON.stringify(r.body),
      });
      const text = await res.body.text();
      let json: Record<string, unknown> | undefined;
      if (text.startsWith('{')) {
        try {
          json = JSON.parse(text);
        } catch {}
      }
      const code = typeof json?.['code'] === 'string' ? (json['code'] as string) : undefined;
      return { status: res.statusCode, outcome: classify(res.statusCode, code), code, json };
    },
  };

  const people = makePeople(world, PEOPLE);
  for (const p of people) sim.spawn(START, person(world, p, START, DAYS));
  const names = people.map((p) => p.name);
  sim.spawn(
    START + 1 * DAY + 14.5 * 3_600_000,
    distributedStuffing(world, START + 1 * DAY + 14.5 * 3_600_000, STUFFING, names),
  );
  // Takeovers start from inside the victims' own days (actors.ts), 30–90 minutes after them.
  people
    .filter((p) => !p.traveller)
    .slice(0, 20)
    .forEach((v, i) => {
      v.takeoverDay = 2 + (i % 3);
    });
  people.slice(40, 60).forEach((v, i) => {
    const at = START + (2 + (i % 4)) * DAY + (10 + (i % 6)) * 3_600_000;
    sim.spawn(at, stolenToken(world, v, at));
  });
  for (let i = 0; i < 5; i++) {
    const at = START + (3 + i * 0.5) * DAY + 11 * 3_600_000;
    sim.spawn(at, scraper(world, `scraper${i}@example.org`, at));
  }
  sim.spawn(START + 0.5 * DAY, knownBad(world, START + 0.5 * DAY, 300));

  const wall = performance.now();
  await sim.run();
  const seconds = (performance.now() - wall) / 1000;

  await pool.close();
  await enforcer.close();
  await app.close();
  await (redis as unknown as { destroy(): Promise<void> }).destroy();
  rmSync(dir, { recursive: true, force: true });

  const result = report(sent, { people: PEOPLE, days: DAYS, seconds });
  writeFileSync(process.env['EVAL_OUT'] ?? 'docs/evaluation.md', result.markdown);
  console.log(result.table);
  console.log(JSON.stringify(result.summary));
}

await main();
