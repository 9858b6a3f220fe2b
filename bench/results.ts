/**
 * What `make bench` leaves behind: bench/results/latest.json and latest.md (a smoke run writes
 * .smoke.* instead, which nobody commits), and the table and summary line on standard output.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOAD_CORE, SUT_CORE } from './processes.ts';
import type { RouteCost } from './routes-arm.ts';
import type { StartSpread } from './start-spread.ts';

/** A target the run is held to: what, the bound, the measured value, whether it held. */
export type Guard = [name: string, bound: string, measured: number, held: boolean];

export interface ResultRow {
  target: string;
  rps: number;
  runs: number[];
  cpuUsPerRequest: number;
  rssMb: number;
  non2xxPercent: number;
  p50Us: number | undefined;
  p99Us: number | undefined;
  p99SpreadUs?: number | undefined;
  p999Us?: number | undefined;
}

export interface RunSetup {
  connections: number;
  closedSeconds: number;
  warmSeconds: number;
  freshWarmSeconds: number;
  openRate: number;
  openSeconds: number;
  rounds: number;
  latencyRounds: number;
  clients: number;
}

export function writeResults(
  root: string,
  run: {
    smoke: boolean;
    rows: ResultRow[];
    summary: Record<string, number>;
    guards: Guard[];
    spread: StartSpread;
    routeCost: RouteCost;
    setup: RunSetup;
  },
): void {
  const { smoke, rows, summary, guards, spread, routeCost, setup } = run;
  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown CPU';
  const table = [
    '| target | req/s (median) | runs | CPU µs / request | RSS MB under load | non-2xx % | p50 µs @1k rps | p99 µs @1k rps (spread) | p99.9 µs |',
    '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.target} | ${r.rps} | ${r.runs.join(', ')} | ${r.cpuUsPerRequest} | ${r.rssMb} | ${r.non2xxPercent} | ${r.p50Us ?? '—'} | ${r.p99Us === undefined ? '—' : `${r.p99Us} (${r.p99SpreadUs})`} | ${r.p999Us ?? '—'} |`,
    ),
  ].join('\n');
  const guardTable = [
    '| target | bound | measured | held |',
    '| --- | --- | ---: | --- |',
    ...guards.map(
      ([name, bound, measured, held]) => `| ${name} | ${bound} | ${measured} | ${held ? 'yes' : '**no**'} |`,
    ),
  ].join('\n');
  const markdown = `<!-- Written by \`make bench\`${smoke ? ' (smoke run: numbers are not meaningful)' : ''}. -->
# Benchmark

\`\`\`sh
make bench
\`\`\`

${new Date().toISOString()}, ${cpu}, 2 cores, Node ${process.version}. Load generator (wrk, closed loop,
${setup.connections} connections, no pipelining, ${setup.closedSeconds} s; and vegeta, open loop at ${setup.openRate} rps for ${setup.openSeconds} s, for
latency) pinned to core ${LOAD_CORE}; the system under test pinned to core ${SUT_CORE}. ${setup.rounds} interleaved
rounds, fresh Node processes for each, warmed ${setup.freshWarmSeconds} s (other targets ${setup.warmSeconds} s) just before each measured run; ${setup.latencyRounds} open-loop runs
per target. req/s and latencies are medians (the p99's spread is max − min over the runs), the ratios
below are taken within each round and the median given. Client addresses: ${setup.clients} residential IPs from the bundled GeoIP data, Zipf-weighted;
30% of requests carry one of 100 JWTs. The policy (\`bench/policy.yaml\`) has every signal on and a
100,000-entry feed. Ratios are against the bare node:http + undici proxy: the enforcer's own HTTP layer.

${table}

CPU µs per request over ${spread.starts.length} fresh starts of the enforcer, interleaved with the same number of runs of one
long-lived enforcer and of nginx (the machine's own noise):

| | runs | max ÷ min − 1 |
| --- | --- | ---: |
| fresh starts | ${spread.starts.join(', ')} | ${spread.cpuSpreadAcrossStarts} |
| one long-lived process | ${spread.withinProcess.join(', ')} | ${spread.cpuSpreadWithinProcess} |
| nginx | ${spread.nginx.join(', ')} | ${spread.nginxCpuSpread} |

CPU µs per request at 10 routes: ${routeCost.at10.join(', ')}; at 1,000 routes: ${routeCost.at1000.join(', ')} (RSS under load
${routeCost.rssMbAt1000Routes} MB).

Held to:

${guardTable}

\`\`\`json
${JSON.stringify(summary, null, 2)}
\`\`\`
`;
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  const name = smoke ? '.smoke' : 'latest';
  writeFileSync(
    join(root, `bench/results/${name}.json`),
    `${JSON.stringify({ summary, rows, spread, routeCost, guards, rounds: setup.rounds }, null, 2)}\n`,
  );
  writeFileSync(join(root, `bench/results/${name}.md`), markdown);
  console.log(table);
  console.log(guardTable);
  console.log(JSON.stringify(summary));
}
