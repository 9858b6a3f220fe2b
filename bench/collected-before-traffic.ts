/**
 * Whether one full collection before any traffic makes a process slower for good — a
 * diagnostic, not part of `make bench`. A sidecar meets that collection when it idles; here a
 * preload (bench/collect-at-start.ts) runs it a second after start. Each line is one fresh
 * process: started, 6 s without traffic (collected or not), warmed up, then measured; CPU µs per
 * request on the bench's mix. The enforcer answers readiness probes before the collection, so
 * Node's tick objects exist and die in it (cli/tick-shape.ts says what that did before the hold);
 * the bare node:http proxy serves nothing before it and is the control for the collection
 * itself. BASE=<dir> adds the enforcer of another build (its `dist/`), e.g. a worktree of a
 * commit before the hold.
 *
 *   node bench/collected-before-traffic.ts      # ROUNDS (default 3), BASE (optional)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/support/free-port.ts';
import { closedLoop, LOAD_CORE, pinned, ready, startEnforcer, startNode, stop } from './processes.ts';
import { writeWorkload } from './workload.ts';

const ROOT = join(import.meta.dirname, '..');
const ROUNDS = Number(process.env['ROUNDS'] ?? 3);
const QUIET_MS = 6000;
const COLLECT = `--expose-gc --import=${join(ROOT, 'bench/collect-at-start.ts')}`;

const workload = await writeWorkload(mkdtempSync(join(tmpdir(), 'collected-')), 5000);
const upstreamPort = await freePort();
const app = pinned(LOAD_CORE, process.execPath, [join(ROOT, 'bench/upstream.ts'), String(upstreamPort)]);
await ready(app);
const upstream = `http://127.0.0.1:${upstreamPort}`;

/** An enforcer built in `root` (its `dist/`) on the bench policy. */
const enforcerOf = (root: string) => async (port: number) =>
  startEnforcer(root, {
    listen: port,
    admin: await freePort(),
    upstream,
    policy: workload.policy('enforce'),
  });
const targets: Record<string, (port: number) => ReturnType<typeof startNode>> = {
  enforcer: enforcerOf(ROOT),
  'bare proxy': (port) => startNode(ROOT, 'bench/bare-node-proxy.ts', [String(port), upstream]),
};
const base = process.env['BASE'];
if (base) targets['enforcer (BASE)'] = enforcerOf(base);

const results = Object.fromEntries(
  Object.keys(targets).map((name) => [name, { fresh: [] as number[], collected: [] as number[] }]),
);
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, start] of Object.entries(targets)) {
    for (const mode of ['fresh', 'collected'] as const) {
      // The processes under test take their extra V8 flags from here (bench/processes.ts).
      process.env['BENCH_NODE_FLAGS'] = mode === 'collected' ? COLLECT : '';
      const port = await freePort();
      const child = await start(port);
      await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
      const url = `http://127.0.0.1:${port}`;
      closedLoop(ROOT, url, child.pid!, workload.files, 16);
      const cpu = closedLoop(ROOT, url, child.pid!, workload.files, 10).cpu;
      await stop(child);
      results[name]![mode].push(cpu);
      console.log(`round ${round + 1} ${name} ${mode}: ${cpu.toFixed(1)} µs CPU per request`);
    }
  }
}
const list = (values: number[]) => values.map((v) => v.toFixed(1)).join(', ');
console.log('\n| process | fresh | one collection before traffic |\n| --- | --- | --- |');
for (const [name, r] of Object.entries(results))
  console.log(`| ${name} | ${list(r.fresh)} | ${list(r.collected)} |`);
await stop(app);
process.exit(0);
