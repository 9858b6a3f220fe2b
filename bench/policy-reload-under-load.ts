/**
 * Does a policy reload stall the requests an enforcer is serving? The enforcer runs the bench
 * policy with 1,000 routes under the bench's request mix at a fixed rate (open loop), and the
 * policy file is rewritten every 3 s with a different 1,000-route policy, which the enforcer's
 * watcher picks up, parses on a worker thread, compiles and swaps in. The longest stall comes
 * from the enforcer's own monitor (`riskgate_nodejs_eventloop_lag_max_seconds`, reset by each
 * scrape) at a 1 ms interval (enforcer-loop-monitor.ts). Control: the same enforcer under
 * the same load with the policy left alone.
 */

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resetStallWindow, scrapeStall, startMonitoredEnforcer } from './enforcer-loop-monitor.ts';
import { cpuPerRequest, stop } from './processes.ts';
import { type Workload, withRoutes } from './workload.ts';

export interface ReloadStall {
  /** Longest event-loop stall under load while the policy reloaded, ms (beyond the 1 ms timer). */
  withReloadsMs: number;
  /** ... under the same load with the policy unchanged, ms. */
  controlMs: number;
  /** Reloads the enforcer applied while under load. */
  reloads: number;
}

const ROUTES = 1000;

async function scrape(adminUrl: string): Promise<{ stallMs: number; applied: number }> {
  const { stallMs, metrics } = await scrapeStall(adminUrl);
  const applied = /^riskgate_config_reloads_total\{result="applied"\} (\d+)$/m.exec(metrics)?.[1];
  return { stallMs, applied: Number(applied ?? 0) };
}

export async function measureReloadStallUnderLoad(
  root: string,
  options: {
    dir: string;
    upstreamPort: number;
    workload: Workload;
    warmSeconds: number;
    seconds: number;
    /** Sends the request mix to `url` at a fixed rate for `seconds`. */
    load: (url: string, seconds: number) => Promise<void>;
  },
): Promise<ReloadStall> {
  const template = readFileSync(options.workload.policy('enforce'), 'utf8');
  const policyFile = join(options.dir, 'reloading-policy.yaml');
  // Each version differs (one more route): every reload parses, compiles and swaps in for real.
  // Written beside and renamed in, as a ConfigMap volume swaps its files.
  const write = (version: number) => {
    writeFileSync(`${policyFile}.next`, withRoutes(template, ROUTES + version));
    renameSync(`${policyFile}.next`, policyFile);
  };
  write(0);
  const { child, url, adminUrl } = await startMonitoredEnforcer(root, options.upstreamPort, policyFile);
  try {
    cpuPerRequest(root, url, child.pid!, options.workload.files, options.warmSeconds);
    await resetStallWindow(adminUrl);
    await options.load(url, options.seconds);
    const control = await scrape(adminUrl);
    let version = 0;
    const rewrite = setInterval(() => write(++version), 3000);
    await options.load(url, options.seconds);
    clearInterval(rewrite);
    const withReloads = await scrape(adminUrl);
    const reloads = withReloads.applied - control.applied;
    if (reloads < 1) throw new Error('the enforcer applied no reload under load');
    return { withReloadsMs: withReloads.stallMs, controlMs: control.stallMs, reloads };
  } finally {
    await stop(child);
  }
}
