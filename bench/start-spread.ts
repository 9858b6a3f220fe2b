/**
 * Is a start of the enforcer sometimes slow for its whole life, or is the machine noisy? CPU per
 * request measured, interleaved, over many fresh starts of the enforcer, over time within one
 * long-lived enforcer, and for nginx (the machine's own noise). A process that can land in a
 * slow mode spreads more across starts than within one process; the machine spreads all three.
 * Also runnable alone: `node bench/start-spread.ts` (after `make build`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../test/support/free-port.ts';
import { cpuPerRequest, LOAD_CORE, pinned, ready, startEnforcer, startNginx, stop } from './processes.ts';
import { relativeSpread } from './stats.ts';
import { writeWorkload } from './workload.ts';

export interface StartSpread {
  /** CPU µs per request of each fresh start, in order. */
  starts: number[];
  /** ... of one process, measured as often, between the starts. */
  withinProcess: number[];
  nginx: number[];
  /** max ÷ min − 1 of each. */
  cpuSpreadAcrossStarts: number;
  cpuSpreadWithinProcess: number;
  nginxCpuSpread: number;
}

export async function measureStartSpread(
  root: string,
  options: {
    dir: string;
    upstreamPort: number;
    policy: string;
    files: Record<string, string>;
    starts: number;
    warmSeconds: number;
    seconds: number;
  },
): Promise<StartSpread> {
  const upstream = `http://127.0.0.1:${options.upstreamPort}`;
  const start = async () => {
    const [listen, admin] = [await freePort(), await freePort()];
    const child = await startEnforcer(root, { listen, admin, upstream, policy: options.policy });
    return { child, url: `http://127.0.0.1:${listen}` };
  };
  const nginxPort = await freePort();
  const nginx = await startNginx(options.dir, nginxPort, options.upstreamPort);
  const nginxUrl = `http://127.0.0.1:${nginxPort}`;
  const longLived = await start();
  cpuPerRequest(root, longLived.url, longLived.child.pid!, options.files, options.warmSeconds);
  cpuPerRequest(root, nginxUrl, nginx.pid!, options.files, 1);
  const starts: number[] = [];
  const withinProcess: number[] = [];
  const nginxRuns: number[] = [];
  for (let i = 0; i < options.starts; i++) {
    // Interleaved, each measured as long: the machine's drift reaches all three alike.
    const fresh = await start();
    cpuPerRequest(root, fresh.url, fresh.child.pid!, options.files, options.warmSeconds);
    starts.push(cpuPerRequest(root, fresh.url, fresh.child.pid!, options.files, options.seconds));
    await stop(fresh.child);
    withinProcess.push(
      cpuPerRequest(root, longLived.url, longLived.child.pid!, options.files, options.seconds),
    );
    nginxRuns.push(cpuPerRequest(root, nginxUrl, nginx.pid!, options.files, options.seconds));
    if (process.env['BENCH_TRACE'])
      console.error(
        `start ${i + 1}: fresh ${starts.at(-1)}, long-lived ${withinProcess.at(-1)}, nginx ${nginxRuns.at(-1)} µs/request`,
      );
  }
  await stop(longLived.child);
  await stop(nginx);
  return {
    starts,
    withinProcess,
    nginx: nginxRuns,
    cpuSpreadAcrossStarts: relativeSpread(starts),
    cpuSpreadWithinProcess: relativeSpread(withinProcess),
    nginxCpuSpread: relativeSpread(nginxRuns),
  };
}

if (import.meta.main) {
  const root = resolve(import.meta.dirname, '..');
  const dir = mkdtempSync(join(tmpdir(), 'riskgate-spread-'));
  const workload = await writeWorkload(dir, 5000);
  const upstreamPort = await freePort();
  const app = pinned(LOAD_CORE, process.execPath, [join(root, 'bench/upstream.ts'), String(upstreamPort)]);
  await ready(app);
  const result = await measureStartSpread(root, {
    dir,
    upstreamPort,
    policy: workload.policy('enforce'),
    files: workload.files,
    starts: Number(process.env['BENCH_STARTS'] ?? 8),
    warmSeconds: Number(process.env['BENCH_WARM_SECONDS'] ?? 4),
    seconds: 5,
  });
  console.log(JSON.stringify(result));
  await stop(app);
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
