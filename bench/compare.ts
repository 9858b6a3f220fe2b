/**
 * `node bench/compare.ts OTHER_CHECKOUT`: this checkout's enforcer beside another build of it
 * (a checkout of an earlier commit with `make build` run in it), and the bare proxy, measured
 * side by side in one run — never numbers from two runs of a noisy machine. Each round starts
 * fresh processes and runs every target in turn with the same workload as `make bench`; the
 * report gives CPU µs per request (from each process's own counters) and req/s per round, and
 * the medians of the ratios paired within rounds. BENCH_ROUNDS (default 5), BENCH_SECONDS
 * (default 8), BENCH_REDIS=1 adds both enforcers with Redis.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, startRedisServer } from '../test/support/redis-server.ts';
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
import { writeWorkload } from './workload.ts';

const ROOT = resolve(import.meta.dirname, '..');
const OTHER = process.argv[2] ? resolve(process.argv[2]) : undefined;
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 8);
const WARM = 4;

async function main() {
  if (!OTHER || !existsSync(join(OTHER, 'dist/cli/main.js'))) {
    console.error('usage: node bench/compare.ts OTHER_CHECKOUT   (with `make build` run in both)');
    process.exit(2);
  }
  const dir = mkdtempSync(join(tmpdir(), 'riskgate-compare-'));
  const workload = await writeWorkload(dir, 5000);
  const redis = process.env['BENCH_REDIS'] === '1' ? await startRedisServer() : undefined;
  const upPort = await freePort();
  const app = pinned(LOAD_CORE, process.execPath, [join(ROOT, 'bench/upstream.ts'), String(upPort)]);
  await ready(app);
  const upstream = `http://127.0.0.1:${upPort}`;
  const variants: Variant[] = [
    {
      name: 'bare proxy',
      start: async () => {
        const port = await freePort();
        const child = await startNode(ROOT, 'bench/bare-proxy.ts', [String(port), upstream]);
        return { url: `http://127.0.0.1:${port}`, child };
      },
    },
  ];
  for (const [label, root] of [
    ['other', OTHER],
    ['this', ROOT],
  ] as const) {
    for (const withRedis of redis ? [false, true] : [false]) {
      variants.push({
        name: `${label}${withRedis ? ' (Redis)' : ''}`,
        start: async () => {
          const [listen, admin] = [await freePort(), await freePort()];
          const child = await startEnforcer(root, {
            listen,
            admin,
            upstream,
            policy: workload.policy('enforce'),
            ...(withRedis && redis ? { redis: redis.url } : {}),
          });
          return { url: `http://127.0.0.1:${listen}`, child };
        },
      });
    }
  }
  // Fresh processes every round, started and measured in a rotating order.
  const results = await interleavedRounds(ROOT, variants, workload.files, {
    rounds: ROUNDS,
    warmSeconds: WARM,
    seconds: SECONDS,
  });
  const bare = results.get('bare proxy')!;
  const lines = [
    '| variant | CPU µs/request (median) | rounds | req/s (median) | ÷ bare proxy by CPU (median of paired) |',
    '| --- | ---: | --- | ---: | ---: |',
  ];
  for (const [name, rs] of results) {
    const ratio = median(rs.map((r, i) => bare[i]!.cpu / r.cpu));
    lines.push(
      `| ${name} | ${median(rs.map((r) => r.cpu)).toFixed(1)} | ${rs.map((r) => r.cpu.toFixed(1)).join(', ')} | ${median(rs.map((r) => r.rps)).toFixed(0)} | ${ratio.toFixed(3)} |`,
    );
  }
  const other = results.get('other')!;
  const self = results.get('this')!;
  const paired = median(self.map((r, i) => r.cpu / other[i]!.cpu));
  console.log(lines.join('\n'));
  console.log(
    `\nthis ÷ other, CPU per request, median of rounds: ${paired.toFixed(3)} (${self.map((r, i) => (r.cpu / other[i]!.cpu).toFixed(3)).join(', ')})`,
  );
  await stop(app);
  await (redis as unknown as { destroy?: () => Promise<void> } | undefined)?.destroy?.();
  rmSync(dir, { recursive: true, force: true });
}

await main();
