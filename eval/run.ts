/**
 * `npm run eval`: a week of simulated traffic — members and a dozen kinds of attack — through a
 * real enforcer with a real Redis, over HTTP, played on `examples/quickstart.yaml` exactly as it
 * ships and then on a tuned policy (eval/policy.yaml), labelled. Reports per class what was
 * allowed, challenged, restricted and denied, sets a per-IP threshold baseline (what fail2ban
 * does) on the same login attempts, writes docs/evaluation.md and ends with one JSON line: the
 * summary on the shipped policy.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  duringWave,
  knownBad,
  lockoutAttack,
  makePeople,
  noisyAddress,
  ownersDuringLockout,
  person,
  rotatingInOne64,
  type Sent,
  scraper,
  spray,
  stolenToken,
  throughVpn,
  type World,
} from './actors.ts';
import { startEvalApp } from './eval-app.ts';
import { type EvaluatedPolicy, report, type Solve } from './report.ts';
import { rng, Simulation } from './simulation.ts';
import { sameNetwork, samplePlace } from './world.ts';

const PEOPLE = Number(process.env['EVAL_PEOPLE'] ?? 120);
const DAYS = Number(process.env['EVAL_DAYS'] ?? 7);
const STUFFING = Number(process.env['EVAL_STUFFING'] ?? 3000);
const START = Date.UTC(2026, 10, 2, 0, 0, 0); // a Monday
const DAY = 86_400_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;

/** The threat feed's addresses (examples/feeds/blocklist.txt): what the known-bad clients use. */
const KNOWN_BAD = Array.from({ length: 40 }, (_, i) => `203.0.113.${10 + i}`);
/** VPN exits on a proxy feed of the tuned policy (the shipped one has no such feed). */
const VPN_EXITS = Array.from({ length: 10 }, (_, i) => `198.51.100.${100 + i}`);

async function play(policyFile: string, label: string): Promise<EvaluatedPolicy> {
  // The same seed every time: both policies meet the same world.
  const random = rng(20261127);
  const geo = new GeoLookup(cityDatabase(undefined, '.'), asnDatabase(undefined, '.'), []);
  const sim = new Simulation(START);
  const passwords = new Map<string, string>();
  const dir = mkdtempSync(join(tmpdir(), 'riskgate-eval-'));
  cpSync('examples/keys', join(dir, 'keys'), { recursive: true });
  cpSync('examples/feeds', join(dir, 'feeds'), { recursive: true });
  writeFileSync(join(dir, 'known-bad.txt'), `${KNOWN_BAD.join('\n')}\n`);
  writeFileSync(join(dir, 'vpn-exits.txt'), `${VPN_EXITS.join('\n')}\n`);
  writeFileSync(join(dir, 'policy.yaml'), readFileSync(policyFile, 'utf8'));

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
  const solves: Solve[] = [];
  const world: World = {
    sim,
    geo,
    random,
    passwords,
    knownBadIps: KNOWN_BAD,
    record: (s) => sent.push(s),
    solved: (ms, difficulty) => solves.push({ ms, difficulty }),
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
  // Twenty members on one big residential network, where a noisy address will fail 50 logins.
  const noisy = samplePlace(geo, random, 'residential', (p) => p.country === 'US' || p.country === 'DE');
  const neighbours = makePeople(world, 20, {
    prefix: 'neighbour',
    cls: 'legitimate: neighbours of a noisy address',
    homes: () => sameNetwork(geo, random, noisy),
  });
  for (const p of [...people, ...neighbours]) sim.spawn(START, person(world, p, START, DAYS));
  const names = people.map((p) => p.name);

  const wave = START + 1 * DAY + 14.5 * HOUR;
  sim.spawn(wave, distributedStuffing(world, wave, STUFFING, names));
  sim.spawn(wave, duringWave(world, wave, people.slice(60, 90), 40 * MINUTE));

  const lockout = START + 2 * DAY + 10 * HOUR;
  const victims = people.filter((p) => !p.traveller).slice(90, 100);
  sim.spawn(lockout, lockoutAttack(world, lockout, victims, 30));
  sim.spawn(lockout, ownersDuringLockout(world, lockout, victims, 15 * MINUTE));

  sim.spawn(START + 3 * DAY + 9 * HOUR, noisyAddress(world, START + 3 * DAY + 9 * HOUR, noisy, neighbours));
  sim.spawn(START + 4 * DAY + 2 * HOUR, spray(world, START + 4 * DAY + 2 * HOUR, 400, 20_000));
  sim.spawn(START + 5 * DAY + 12 * HOUR, rotatingInOne64(world, START + 5 * DAY + 12 * HOUR, 200));

  // Takeovers start from inside the victims' own days (actors.ts), 30–90 minutes after them.
  people
    .filter((p) => !p.traveller)
    .slice(0, 20)
    .forEach((v, i) => {
      v.takeoverDay = 2 + (i % 3);
    });
  people.slice(40, 60).forEach((v, i) => {
    const at = START + (2 + (i % 4)) * DAY + (10 + (i % 6)) * HOUR;
    sim.spawn(at, stolenToken(world, v, at));
  });
  for (let i = 0; i < 5; i++) {
    const at = START + (3 + i * 0.5) * DAY + 11 * HOUR;
    sim.spawn(at, scraper(world, `scraper${i}@example.org`, at));
  }
  sim.spawn(START + 0.5 * DAY, knownBad(world, START + 0.5 * DAY, 300));
  // From a random stream of their own, so the rest of the world stays as it was without them.
  const vpnUsers = makePeople({ ...world, random: rng(20261129) }, 20, {
    prefix: 'vpn',
    cls: 'legitimate: browsing through a VPN exit',
  });
  sim.spawn(START + 1.5 * DAY, throughVpn(world, START + 1.5 * DAY, vpnUsers, VPN_EXITS));

  const wall = performance.now();
  await sim.run();
  const seconds = (performance.now() - wall) / 1000;
  await pool.close();
  await enforcer.close();
  await app.close();
  await (redis as unknown as { destroy(): Promise<void> }).destroy();
  rmSync(dir, { recursive: true, force: true });
  return { label, file: policyFile, sent, solves, seconds };
}

async function main() {
  const runs = [
    await play('examples/quickstart.yaml', 'Shipped: the quickstart policy, unchanged'),
    await play('eval/policy.yaml', 'Tuned for this shop'),
  ];
  const result = report(runs, { people: PEOPLE, days: DAYS });
  writeFileSync(process.env['EVAL_OUT'] ?? 'docs/evaluation.md', result.markdown);
  console.log(result.tables);
  console.log(JSON.stringify(result.summary));
}

await main();
