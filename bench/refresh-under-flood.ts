/**
 * How long does a feed update take to land while requests saturate the enforcer's core? A
 * diagnostic, not part of `make bench`:
 *
 *   node bench/refresh-under-flood.ts                       # this checkout, 2 rounds
 *   ROOTS=/path/to/other,. ROUNDS=3 node bench/refresh-under-flood.ts   # side by side
 *
 * Each root's `riskgate enforce` (its dist/) runs the bench policy with a 1,000,000-entry feed
 * re-read every second, under the closed-loop mix (wrk, 32 connections: the core never idles).
 * The list is replaced as soon as the last one landed (seen in `riskgate_feed_entries`, the two
 * lists differ by five lines), until 8 s before the run ends. Printed per root and round: req/s, CPU per
 * request, how long each list took to land, and how many parse jobs were raised to normal
 * priority. At nice 19 alone no list landed in 36 s here (bench/README.md "The price of nice 19").
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../test/support/free-port.ts';
import { feedMetrics, feedThatChanges } from './feed-refresh-under-load.ts';
import { cpuPerRequest, cpuUs, LOAD_CORE, pinned, ready, startEnforcer, stop } from './processes.ts';
import { writeWorkload } from './workload.ts';

const ROOT = resolve(import.meta.dirname, '..');
const ENTRIES = 1_000_000;
const SECONDS = Number(process.env['FLOOD_SECONDS'] ?? 40);
const roots = (process.env['ROOTS'] ?? ROOT).split(',').map((root) => resolve(root));
const rounds = Number(process.env['ROUNDS'] ?? 2);

const dir = mkdtempSync(join(tmpdir(), 'riskgate-refresh-under-flood-'));
const workload = await writeWorkload(dir, 5000);
const upstreamPort = await freePort();
const app = pinned(LOAD_CORE, process.execPath, [join(ROOT, 'bench/upstream.ts'), String(upstreamPort)]);
await ready(app);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (let round = 1; round <= rounds; round++) {
  for (const root of roots) {
    const { policyFile, swapNext } = feedThatChanges(dir, workload, ENTRIES, {
      refreshInterval: '1s',
      secondEntries: ENTRIES - 5,
    });
    const [listen, admin] = [await freePort(), await freePort()];
    const child = await startEnforcer(root, {
      listen,
      admin,
      upstream: `http://127.0.0.1:${upstreamPort}`,
      policy: policyFile,
    });
    const adminUrl = `http://127.0.0.1:${admin}`;
    const url = `http://127.0.0.1:${listen}`;
    try {
      while ((await feedMetrics(adminUrl)).entries !== ENTRIES) await sleep(200);
      cpuPerRequest(root, url, child.pid!, workload.files, 6);
      const wrk = spawn(
        'taskset',
        ['-c', LOAD_CORE, 'wrk', '-t1', '-c32', `-d${SECONDS}s`, '-s', join(root, 'bench/wrk.lua'), url],
        {
          env: { ...process.env, ...workload.files, RG_ATTACK_SHARE: '0' },
          stdio: ['ignore', 'pipe', 'ignore'],
        },
      );
      let out = '';
      wrk.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const wrkExited = new Promise((r) => wrk.once('exit', r));
      const cpuBefore = cpuUs(child.pid);
      const started = Date.now();
      const end = started + (SECONDS - 1) * 1000;
      const landed: string[] = [];
      await sleep(3000);
      for (let swaps = 1; Date.now() < end - 8000; swaps++) {
        const want = swaps % 2 === 1 ? ENTRIES - 5 : ENTRIES;
        const at = Date.now();
        swapNext();
        while (Date.now() < end && (await feedMetrics(adminUrl)).entries !== want) await sleep(100);
        const took = (Date.now() - at) / 1000;
        landed.push(Date.now() < end ? took.toFixed(1) : `not in ${took.toFixed(0)}`);
        await sleep(1000);
      }
      await wrkExited;
      const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
      const { jobsRaised } = await feedMetrics(adminUrl);
      console.log(
        `round ${round} ${root}: ${(requests / SECONDS).toFixed(0)} req/s, ${((cpuUs(child.pid) - cpuBefore) / requests).toFixed(1)} µs CPU/request; lists landed after ${landed.join(', ')} s; parse jobs raised: ${jobsRaised}`,
      );
    } finally {
      await stop(child);
    }
  }
}
await stop(app);
