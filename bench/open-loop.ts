/**
 * The open-loop side of the benchmark: vegeta sending the bench's request mix at a fixed rate —
 * requests leave on schedule whatever the answers do (no coordinated omission) — for latency
 * percentiles, or as steady load while something else is measured.
 */
import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { spread, zipfPick } from './client-mix.ts';
import { LOAD_CORE } from './processes.ts';

/** What attack requests carry in their query, as bench/wrk.lua sends them (URL-encoded). */
export const ATTACK_PAYLOADS = [
  '%27%20OR%20%271%27%3D%271',
  '1%20UNION%20SELECT%20username%2Cpassword%20FROM%20users--',
  '%3Cscript%3Ealert(1)%3C%2Fscript%3E',
  '%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E',
  '..%2F..%2F..%2Fetc%2Fpasswd',
  '%3B%20cat%20%2Fetc%2Fpasswd',
  '1%3B%20DROP%20TABLE%20users',
  'javascript%3Aalert(document.cookie)',
];
export interface OpenLoopTarget {
  url: string;
  /** Share of requests from denied addresses. */
  attack: number;
}

export interface Latency {
  p50: number;
  p99: number;
  p999: number;
}

/** vegeta, built from the Go module proxy on first use (bench/build-vegeta.sh); its path. */
export function vegetaBinary(root: string): string {
  return execFileSync(join(root, 'bench/build-vegeta.sh'), { encoding: 'utf8' }).trim().split('\n').at(-1)!;
}

/**
 * The open-loop request mix as vegeta targets (JSON lines, cycled): the same clients, tokens and
 * attack share as the closed-loop runs.
 */
export function openLoopTargets(
  dir: string,
  target: OpenLoopTarget,
  pool: { ips: string[]; tokens: string[]; bad: string[] },
): string {
  const file = join(dir, `open-loop-${target.attack}-${target.url.split(':').at(-1)}.jsonl`);
  const every = target.attack > 0 ? Math.round(1 / target.attack) : 0;
  const lines: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    const attack = every > 0 && i % every === 0;
    const authed = !attack && i % 10 < 3;
    const t = spread(pool.tokens.length, i);
    const header: Record<string, string[]> = {
      'User-Agent': ['Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0'],
      // A subject lives somewhere: each token comes from its own home address.
      'X-Forwarded-For': [attack ? zipfPick(pool.bad, i) : authed ? pool.ips[t]! : zipfPick(pool.ips, i)],
    };
    if (authed) header['Authorization'] = [`Bearer ${pool.tokens[t]}`];
    const path = authed
      ? `/orders/${i % 900}`
      : attack
        ? `/products/${i % 5000}?q=${ATTACK_PAYLOADS[i % ATTACK_PAYLOADS.length]}`
        : `/products/${i % 5000}`;
    lines.push(JSON.stringify({ method: 'GET', url: `${target.url}${path}`, header }));
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function attackArgs(targetsFile: string, rate: number, seconds: number): string[] {
  return [
    'attack',
    `-rate=${rate}/s`,
    `-duration=${seconds}s`,
    '-format=json',
    `-targets=${targetsFile}`,
    '-keepalive=true',
    '-http2=false',
    '-timeout=10s',
  ];
}

/**
 * Latency at `rate` for `seconds`, each request timed from when it was sent to its last byte;
 * percentiles from every request's own latency (vegeta's CSV), µs.
 */
export function openLoop(vegeta: string, targetsFile: string, rate: number, seconds: number): Latency {
  const results = execFileSync(
    'taskset',
    ['-c', LOAD_CORE, vegeta, ...attackArgs(targetsFile, rate, seconds)],
    {
      maxBuffer: 1 << 30,
    },
  );
  const csv = execFileSync(vegeta, ['encode', '-to', 'csv'], {
    input: results,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  // The third column is the request's latency in nanoseconds.
  const latencies = csv
    .split('\n')
    .filter(Boolean)
    .map((line) => Number(line.split(',', 3)[2]) / 1000)
    .sort((a, b) => a - b);
  if (latencies.length === 0) throw new Error('vegeta sent no requests');
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))]!;
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999) };
}

/** The same load, this process's event loop free meanwhile; results dropped. */
export async function openLoopLoad(
  vegeta: string,
  targetsFile: string,
  rate: number,
  seconds: number,
): Promise<void> {
  await promisify(execFile)(
    'taskset',
    ['-c', LOAD_CORE, vegeta, ...attackArgs(targetsFile, rate, seconds), '-output=/dev/null'],
    { maxBuffer: 1 << 20 },
  );
}
