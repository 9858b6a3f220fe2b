/**
 * What a large API costs per request: the enforcer with the bench policy at 10 routes and at
 * 1,000 (the same signals, the traffic hitting the same few routes), fresh processes each round,
 * interleaved, CPU per request and memory under load. Routing is a tree lookup, so the
 * per-request cost should not move; the table's memory does.
 */
import { freePort } from '../test/support/free-port.ts';
import { cpuPerRequest, rssMb, startEnforcer, stop } from './processes.ts';
import { median } from './stats.ts';
import type { Workload } from './workload.ts';

export interface RouteCost {
  at10: number[];
  at1000: number[];
  cpuPerRequestAt10Routes: number;
  cpuPerRequestAt1000Routes: number;
  /** Paired within rounds, median. */
  routeCpuRatio1000To10: number;
  rssMbAt1000Routes: number;
}

export async function measureRouteCost(
  root: string,
  options: { upstreamPort: number; workload: Workload; rounds: number; warmSeconds: number; seconds: number },
): Promise<RouteCost> {
  const upstream = `http://127.0.0.1:${options.upstreamPort}`;
  const files = { 10: options.workload.policyWithRoutes(10), 1000: options.workload.policyWithRoutes(1000) };
  const cpu: Record<10 | 1000, number[]> = { 10: [], 1000: [] };
  const rss: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    for (const routes of round % 2 ? ([1000, 10] as const) : ([10, 1000] as const)) {
      const [listen, admin] = [await freePort(), await freePort()];
      const child = await startEnforcer(root, { listen, admin, upstream, policy: files[routes] });
      const url = `http://127.0.0.1:${listen}`;
      cpuPerRequest(root, url, child.pid!, options.workload.files, options.warmSeconds);
      cpu[routes].push(cpuPerRequest(root, url, child.pid!, options.workload.files, options.seconds));
      if (routes === 1000) rss.push(rssMb(child.pid));
      await stop(child);
    }
  }
  return {
    at10: cpu[10],
    at1000: cpu[1000],
    cpuPerRequestAt10Routes: median(cpu[10]),
    cpuPerRequestAt1000Routes: median(cpu[1000]),
    routeCpuRatio1000To10: +median(cpu[1000].map((x, i) => x / cpu[10][i]!)).toFixed(3),
    rssMbAt1000Routes: median(rss),
  };
}
