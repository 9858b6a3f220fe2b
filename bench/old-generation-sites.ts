/**
 * What reaches the old generation, per request and by allocation site, at 1,000 rps — a
 * diagnostic, not part of `make bench`. Objects that outlive a young-generation collection are
 * promoted; what dies there later is garbage only a mark-compact frees, and mark-compacts are
 * where the longest collector pauses are. Fresh processes, warmed 16 s, then 4 s at 1,000 rps
 * before 12 s sampled (V8's sampling heap profiler, survivors only, bench/heap-sampling.ts):
 *
 *   node bench/old-generation-sites.ts                      # bare proxy, forwarding only, bench policy
 *   TARGETS=bench ROUNDS=2 BASE=/path/to/other/checkout node bench/old-generation-sites.ts
 *
 * BASE adds the same targets from another (built) checkout, interleaved round by round.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../test/support/free-port.ts';
import { openLoopLoad, openLoopTargets, vegetaBinary } from './open-loop.ts';
import { cpuPerRequest, LOAD_CORE, pinned, ready, startEnforcer, startNode, stop } from './processes.ts';
import { writeWorkload } from './workload.ts';

const ROOT = resolve(import.meta.dirname, '..');
const SECONDS = 12;
const RATE = 1000;
const targets = (process.env['TARGETS'] ?? 'bare,forwarding,bench').split(',');
const base = process.env['BASE'];
const dir = mkdtempSync(join(tmpdir(), 'riskgate-old-generation-'));
const workload = await writeWorkload(dir, 5000);
const forwardingOnly = workload.forwardingOnly();
const upstreamPort = await freePort();
const app = pinned(LOAD_CORE, process.execPath, [join(ROOT, 'bench/upstream.ts'), String(upstreamPort)]);
await ready(app);
const upstream = `http://127.0.0.1:${upstreamPort}`;
const vegeta = vegetaBinary(ROOT);

/** Bytes sampled per request, by the allocating function (its file and first line). */
function bySite(file: string, requests: number): { total: number; sites: [string, number][] } {
  const sites = new Map<string, number>();
  let total = 0;
  type Node = {
    callFrame: { functionName: string; url: string; lineNumber: number };
    selfSize: number;
    children: Node[];
  };
  const walk = (n: Node) => {
    if (n.selfSize > 0) {
      const f = n.callFrame;
      const site = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\//, '')}:${f.lineNumber + 1}`;
      sites.set(site, (sites.get(site) ?? 0) + n.selfSize);
      total += n.selfSize;
    }
    for (const c of n.children) walk(c);
  };
  walk((JSON.parse(readFileSync(file, 'utf8')) as { head: Node }).head);
  return {
    total: total / requests,
    sites: [...sites]
      .map(([s, bytes]) => [s, bytes / requests] as [string, number])
      .sort((a, b) => b[1] - a[1]),
  };
}

for (let round = 0; round < Number(process.env['ROUNDS'] ?? 1); round++) {
  for (const [root, label] of base
    ? [
        [ROOT, 'this'],
        [resolve(base), 'base'],
      ]
    : [[ROOT, '']]) {
    for (const target of targets) {
      const profile = join(dir, `${target}-${label}-${round}.json`);
      process.env['BENCH_NODE_FLAGS'] = `--import=${join(ROOT, 'bench/heap-sampling.ts')}`;
      const env = { HEAP_SAMPLING_FILE: profile, HEAP_SAMPLING_SURVIVORS: '1' };
      const port = await freePort();
      const child =
        target === 'bare'
          ? await startNode(root!, 'bench/bare-node-proxy.ts', [String(port), upstream], env)
          : await startEnforcer(root!, {
              listen: port,
              admin: await freePort(),
              upstream,
              policy: target === 'bench' ? workload.policy('enforce') : forwardingOnly,
              env,
            });
      const url = `http://127.0.0.1:${port}`;
      const load = openLoopTargets(dir, { url, attack: 0 }, workload);
      cpuPerRequest(ROOT, url, child.pid!, workload.files, 16);
      await openLoopLoad(vegeta, load, RATE, 4);
      child.kill('SIGUSR2');
      await openLoopLoad(vegeta, load, RATE, SECONDS);
      child.kill('SIGUSR2');
      for (let i = 0; i < 100 && !existsSync(profile); i++) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 300));
      await stop(child);
      const { total, sites } = bySite(profile, RATE * SECONDS);
      console.log(
        `${target}${label ? ` (${label})` : ''}, round ${round + 1}: ${total.toFixed(0)} bytes per request reached the old generation`,
      );
      for (const [site, bytes] of sites.slice(0, Number(process.env['TOP'] ?? 10)))
        console.log(`  ${bytes.toFixed(0).padStart(5)}  ${site}`);
    }
  }
}
await stop(app);
