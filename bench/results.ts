/**
 * What `make bench` leaves behind: bench/results/latest.json and latest.md (a smoke run writes
 * .smoke.* instead, which nobody commits), and the table and summary line on standard output.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOAD_CORE, SUT_CORE } from './processes.ts';

export interface ResultRow {
  target: string;
  rps: number;
  runs: number[];
  cpuUsPerRequest: number;
  rssMb: number;
  non2xxPercent: number;
  p50Us: number | undefined;
  p99Us: number | undefined;
}

export interface RunSetup {
  connections: number;
  closedSeconds: number;
  warmSeconds: number;
  openRate: number;
  openSeconds: number;
  rounds: number;
  clients: number;
}

export function writeResults(
  root: string,
  run: { smoke: boolean; rows: ResultRow[]; summary: Record<string, number>; setup: RunSetup },
): void {
  const { smoke, rows, summary, setup } = run;
  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown CPU';
  const table = [
    '| target | req/s (median) | runs | CPU µs / request | RSS MB under load | non-2xx % | p50 µs @1k rps | p99 µs @1k rps |',
    '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.target} | ${r.rps} | ${r.runs.join(', ')} | ${r.cpuUsPerRequest} | ${r.rssMb} | ${r.non2xxPercent} | ${r.p50Us ?? '—'} | ${r.p99Us ?? '—'} |`,
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
rounds, fresh Node processes for each, every target warmed ${setup.warmSeconds} s just before each measured run; req/s and latencies are medians, the ratios
below are taken within each round and the median given. Client addresses: ${setup.clients} residential IPs from the bundled GeoIP data, Zipf-weighted;
30% of requests carry one of 100 JWTs. The policy (\`bench/policy.yaml\`) has every signal on and a
100,000-entry feed.

${table}

\`\`\`json
${JSON.stringify(summary, null, 2)}
\`\`\`
`;
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  const name = smoke ? '.smoke' : 'latest';
  writeFileSync(
    join(root, `bench/results/${name}.json`),
    `${JSON.stringify({ summary, rows, rounds: setup.rounds }, null, 2)}\n`,
  );
  writeFileSync(join(root, `bench/results/${name}.md`), markdown);
  console.log(table);
  console.log(JSON.stringify(summary));
}
