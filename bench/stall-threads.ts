/**
 * Which threads had the core while the event loop of the enforcer (or of the bare proxy) stalled?
 * A diagnostic, not part of `make bench` (it needs perf and the right to trace the scheduler,
 * root here):
 *
 *   node bench/stall-threads.ts            # bench policy + 1M-entry feed replaced every 3 s
 *   STALL_SECONDS=30 node bench/stall-threads.ts
 *   STALL_TARGET=steady node bench/stall-threads.ts       # the bench policy, feed left alone
 *   STALL_TARGET=forwarding node bench/stall-threads.ts   # no routes, no signals
 *   STALL_TARGET=bare node bench/stall-threads.ts         # the bare node:http proxy
 *
 * The process under test runs at 1,000 rps on the bench's core, with stall-stamps.ts preloaded
 * (by default the enforcer with the bench policy and a 1,000,000-entry feed replaced every 3 s);
 * `perf sched record` on that core records every switch. Each stall longer than 8 ms
 * (STALL_STAMPS_MS) is then matched to the threads that ran on the core during it: the main
 * thread, the parse thread (`WorkerThread`), V8's helpers (`V8Worker`), the kernel's. How
 * bench/README.md "Background threads yield the core" was found.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../test/support/free-port.ts';
import { feedThatChanges } from './feed-refresh-under-load.ts';
import { openLoopLoad, openLoopTargets, vegetaBinary } from './open-loop.ts';
import {
  cpuPerRequest,
  LOAD_CORE,
  pinned,
  ready,
  SUT_CORE,
  startEnforcer,
  startNode,
  stop,
} from './processes.ts';
import { writeWorkload } from './workload.ts';

const ROOT = resolve(import.meta.dirname, '..');
const seconds = Number(process.env['STALL_SECONDS'] ?? 20);
const target = process.env['STALL_TARGET'] ?? 'refresh';
if (!['refresh', 'steady', 'forwarding', 'bare'].includes(target)) {
  console.error('STALL_TARGET is one of refresh (the default), steady, forwarding, bare');
  process.exit(2);
}

try {
  execFileSync('perf', ['sched', 'record', '-C', SUT_CORE, '-o', '/dev/null', '--', 'true'], {
    stdio: 'ignore',
  });
} catch {
  console.error('stall-threads needs `perf sched record` (linux-perf, and root or perf_event_paranoid ≤ 1)');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'riskgate-stall-threads-'));
const workload = await writeWorkload(dir, 5000);
const { policyFile, swapNext } =
  target === 'refresh'
    ? feedThatChanges(dir, workload, 1_000_000)
    : {
        policyFile: target === 'steady' ? workload.policy('enforce') : workload.forwardingOnly(),
        swapNext: () => {},
      };

const upstreamPort = await freePort();
const app = pinned(LOAD_CORE, process.execPath, [join(ROOT, 'bench/upstream.ts'), String(upstreamPort)]);
await ready(app);
const stampsFile = join(dir, 'stamps.json');
process.env['BENCH_NODE_FLAGS'] = `--import=${join(ROOT, 'bench/stall-stamps.ts')}`;
const [listen, admin] = [await freePort(), await freePort()];
const upstream = `http://127.0.0.1:${upstreamPort}`;
const underTest =
  target === 'bare'
    ? await startNode(ROOT, 'bench/bare-node-proxy.ts', [String(listen), upstream], {
        STALL_STAMPS_FILE: stampsFile,
      })
    : await startEnforcer(ROOT, {
        listen,
        admin,
        upstream,
        policy: policyFile,
        env: { STALL_STAMPS_FILE: stampsFile },
      });
const underTestPid = underTest.pid!;
const url = `http://127.0.0.1:${listen}`;
cpuPerRequest(ROOT, url, underTestPid, workload.files, 16);

const perfFile = join(dir, 'sched.data');
const perf = spawn('perf', ['sched', 'record', '-k', 'CLOCK_MONOTONIC', '-C', SUT_CORE, '-o', perfFile], {
  stdio: 'ignore',
});
await new Promise((r) => setTimeout(r, 1000));
const from = Number(process.hrtime.bigint() / 1000n);
const swaps = setInterval(swapNext, 3000);
const targets = openLoopTargets(dir, { url, attack: 0 }, workload);
await openLoopLoad(vegetaBinary(ROOT), targets, 1000, seconds);
clearInterval(swaps);
const to = Number(process.hrtime.bigint() / 1000n);
perf.kill('SIGINT');
await new Promise((r) => perf.once('exit', r));
await stop(underTest);
await stop(app);

/** One stretch a thread ran on the core: [start, end] in µs, monotonic. */
const runs: { from: number; to: number; thread: string }[] = [];
const timehist = execFileSync('perf', ['sched', 'timehist', '-i', perfFile], {
  maxBuffer: 1 << 28,
  stdio: ['ignore', 'pipe', 'ignore'],
}).toString();
for (const line of timehist.split('\n')) {
  // time  [cpu]  task[tid/pid]  wait  sched-delay  run   (ms, the time in s)
  const m = /^\s*([\d.]+)\s+\[\d+\]\s+(.+?)\s+[\d.]+\s+[\d.]+\s+([\d.]+)\s*$/.exec(line);
  if (!m) continue;
  const end = Number(m[1]) * 1e6;
  // task[tid/pid] or task[pid]: the threads under test by name (its four V8Worker together),
  // everything else as itself.
  const task = /^(.*)\[(\d+)(?:\/(\d+))?\]$/.exec(m[2]!);
  const pid = task?.[3] ?? task?.[2];
  const thread = task && pid === String(underTestPid) ? `${target} ${task[1]}` : m[2]!;
  runs.push({ from: end - Number(m[3]) * 1000, to: end, thread });
}
const stalls = (JSON.parse(readFileSync(stampsFile, 'utf8')) as [number, number][]).filter(
  ([a, b]) => a >= from && b <= to,
);
const busy = new Map<string, number>();
for (const r of runs)
  if (r.to >= from && r.to <= to) busy.set(r.thread, (busy.get(r.thread) ?? 0) + r.to - r.from);
console.log(
  `${target}: ${stalls.length} stalls over ${process.env['STALL_STAMPS_MS'] ?? 8} ms in ${seconds} s at 1,000 rps`,
);
console.log(
  `core time over the run, ms: ${[...busy]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([t, us]) => `${t} ${Math.round(us / 1000)}`)
    .join(', ')}`,
);
for (const [a, b] of stalls.sort((x, y) => y[1] - y[0] - (x[1] - x[0])).slice(0, 10)) {
  const during = new Map<string, number>();
  for (const r of runs) {
    const overlap = Math.min(b, r.to) - Math.max(a, r.from);
    if (overlap > 0) during.set(r.thread, (during.get(r.thread) ?? 0) + overlap);
  }
  const who = [...during]
    .sort((x, y) => y[1] - x[1])
    .map(([t, us]) => `${t} ${(us / 1000).toFixed(1)}`)
    .join(', ');
  console.log(`stall ${((b - a) / 1000).toFixed(1)} ms at +${((a - from) / 1e6).toFixed(2)} s: ${who}`);
}
