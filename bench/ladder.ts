/**
 * `node bench/ladder.ts`: where the enforcer's CPU per request goes, by policy. The same build
 * runs the bench policy cut down step by step — forwarding only, then routes and JWTs, then
 * the threat feed, then GeoIP and ASN, then the rest (geo-velocity, device,
 * behaviour, credential stuffing) — beside the bare node:http + undici proxy, in one run, fresh
 * processes every round in a rotating order, the same workload as `make bench`. Each step's
 * cost is its CPU per request less the step below it, paired within rounds.
 * BENCH_ROUNDS (default 4), BENCH_SECONDS (default 8), BENCH_WARM (default 10).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { freePort } from '../test/support/redis-server.ts';
import {
  interleavedRounds,
  LOAD_CORE,
  pinned,
  ready,
  startEnforcer,
  startNode,
  stop,
  type Variant,
} from './processes.ts';
import { median } from './stats.ts';
import { forwardingOnlySpec, writeWorkload } from './workload.ts';

const ROOT = resolve(import.meta.dirname, '..');
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 4);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 8);
const WARM = Number(process.env['BENCH_WARM'] ?? 10);

type Spec = Record<string, unknown> & { signals: Record<string, unknown> };

/** The steps of the ladder: each a cut of the bench policy's spec, cheapest first. */
const STEPS: { name: string; cut: (spec: Spec) => Spec }[] = [
  {
    name: 'forwarding only',
    cut: (spec) => forwardingOnlySpec(spec) as Spec,
  },
  { name: '+ routes, JWTs', cut: (spec) => ({ ...spec, signals: {} }) },
  {
    name: '+ threat feed (100k)',
    cut: (spec) => ({ ...spec, signals: { ipReputation: spec.signals['ipReputation'] } }),
  },
  {
    name: '+ GeoIP, ASN',
    cut: (spec) => ({
      ...spec,
      signals: { ipReputation: spec.signals['ipReputation'], geoip: spec.signals['geoip'] },
    }),
  },
  { name: 'full bench policy', cut: (spec) => spec },
];

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'riskgate-ladder-'));
  const workload = await writeWorkload(dir, 5000);
  const full = parse(readFileSync(workload.policy('enforce'), 'utf8'));
  const upPort = await freePort();
  const app = pinned(LOAD_CORE, process.execPath, [join(ROOT, 'bench/upstream.ts'), String(upPort)]);
  await ready(app);
  const upstream = `http://127.0.0.1:${upPort}`;
  const variants: Variant[] = [
    {
      name: 'bare node:http proxy',
      start: async () => {
        const port = await freePort();
        return {
          url: `http://127.0.0.1:${port}`,
          child: await startNode(ROOT, 'bench/bare-node-proxy.ts', [String(port), upstream]),
        };
      },
    },
  ];
  for (const [i, step] of STEPS.entries()) {
    const policy = join(dir, `ladder-${i}.yaml`);
    writeFileSync(policy, stringify({ ...full, spec: step.cut(full.spec) }));
    variants.push({
      name: step.name,
      start: async () => {
        const [listen, admin] = [await freePort(), await freePort()];
        return {
          url: `http://127.0.0.1:${listen}`,
          child: await startEnforcer(ROOT, { listen, admin, upstream, policy }),
        };
      },
    });
  }
  const results = await interleavedRounds(ROOT, variants, workload.files, {
    rounds: ROUNDS,
    warmSeconds: WARM,
    seconds: SECONDS,
  });
  const lines = [
    '| step | CPU µs/request (median) | rounds | added to the step above, µs (median of paired) |',
    '| --- | ---: | --- | ---: |',
  ];
  let below: number[] | undefined;
  for (const [name, runs] of results) {
    const rs = runs.map((r) => r.cpu);
    const added = below ? median(rs.map((r, i) => r - below![i]!)).toFixed(1) : '—';
    lines.push(
      `| ${name} | ${median(rs).toFixed(1)} | ${rs.map((r) => r.toFixed(1)).join(', ')} | ${added} |`,
    );
    below = rs;
  }
  console.log(lines.join('\n'));
  await stop(app);
  rmSync(dir, { recursive: true, force: true });
}

await main();
