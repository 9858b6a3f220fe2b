/**
 * Where the enforcer's CPU per request lives: in its process, or on its request path — a
 * diagnostic, not part of `make bench`. One enforcer process (bench policy) serves the bench's
 * closed-loop mix with its own handler, then with the bare proxy's handler, then with its own
 * reply and upstream but no decision (bench/switch-handler.ts swaps them on a signal), in
 * alternating windows: the same start, policy, heap, timers and server options for all three,
 * so start-to-start spread drops out of the comparison. Each process warms every handler
 * first; ratios are paired within a round.
 *
 *   node bench/handler-switch.ts          # PROCESSES (default 2), ROUNDS (6), WINDOW_SECONDS (4)
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../test/support/free-port.ts';
import { closedLoop, LOAD_CORE, pinned, ready, startEnforcer, stop } from './processes.ts';
import { median } from './stats.ts';
import { writeWorkload } from './workload.ts';

const ROOT = resolve(import.meta.dirname, '..');
const PROCESSES = Number(process.env['PROCESSES'] ?? 2);
const ROUNDS = Number(process.env['ROUNDS'] ?? 6);
const SECONDS = Number(process.env['WINDOW_SECONDS'] ?? 4);
const HANDLERS = ['bare', 'forward', 'enforcer'] as const;

const dir = mkdtempSync(join(tmpdir(), 'riskgate-handler-switch-'));
const workload = await writeWorkload(dir, 5000);
const upstreamPort = await freePort();
const app = pinned(LOAD_CORE, process.execPath, [join(ROOT, 'bench/upstream.ts'), String(upstreamPort)]);
await ready(app);
const upstream = `http://127.0.0.1:${upstreamPort}`;
const switchFile = join(dir, 'handler');

console.log('| process | handler | CPU µs / request per window | median | ÷ bare (paired) |');
console.log('| --- | --- | --- | ---: | ---: |');
for (let p = 1; p <= PROCESSES; p++) {
  const [listen, admin] = [await freePort(), await freePort()];
  process.env['BENCH_NODE_FLAGS'] = `--import ${join(ROOT, 'bench/switch-handler.ts')}`;
  const child = await startEnforcer(ROOT, {
    listen,
    admin,
    upstream,
    policy: workload.policy('enforce'),
    env: { HANDLER_SWITCH_UPSTREAM: upstream, HANDLER_SWITCH_FILE: switchFile },
  });
  delete process.env['BENCH_NODE_FLAGS'];
  const url = `http://127.0.0.1:${listen}`;
  const use = async (handler: string) => {
    writeFileSync(switchFile, handler);
    child.kill('SIGUSR2');
    await new Promise((r) => setTimeout(r, 200));
  };
  for (const h of HANDLERS) {
    await use(h);
    closedLoop(ROOT, url, child.pid!, workload.files, 6);
  }
  const cpu = new Map<string, number[]>(HANDLERS.map((h) => [h, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const h of round % 2 === 0 ? HANDLERS : [...HANDLERS].reverse()) {
      await use(h);
      cpu.get(h)!.push(closedLoop(ROOT, url, child.pid!, workload.files, SECONDS).cpu);
    }
  }
  await stop(child);
  const bare = cpu.get('bare')!;
  for (const [h, runs] of cpu) {
    const ratio = median(runs.map((c, i) => c / bare[i]!));
    console.log(
      `| ${p} | ${h} | ${runs.map((c) => c.toFixed(0)).join(', ')} | ${median(runs).toFixed(0)} | ${ratio.toFixed(2)} |`,
    );
  }
}
await stop(app);
process.exit(0);
