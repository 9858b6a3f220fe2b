/**
 * Does a threat feed's refresh stall the requests an enforcer is serving? The enforcer runs the
 * bench policy with a 1,000,000-entry feed (IPv4 and IPv6) replaced by a different list every 3 s
 * and re-read as often, under the bench's request mix at a fixed rate (open loop: a saturated
 * loop is late by the queue in front of it, whatever a refresh does). The longest stall comes
 * from the enforcer's own monitor (`riskgate_nodejs_eventloop_lag_max_seconds`,
 * perf_hooks.monitorEventLoopDelay, reset by each scrape) run at a 1 ms interval: perf_hooks
 * records whole intervals, so at the default 10 ms a stall would read up to 10 ms long. Three
 * controls: the same load with the feed left alone (a busy loop is delayed by the requests
 * themselves), the bare node:http proxy under the same load, watched the same way (what any Node
 * proxy on this core stalls), and a process that does nothing on the same core
 * (loop-delay-probe.ts: what the machine does to any process there).
 */

import type { ChildProcess } from 'node:child_process';
import { linkSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../test/support/free-port.ts';
import { resetStallWindow, scrapeStall, startMonitoredEnforcer } from './enforcer-loop-monitor.ts';
import { cpuPerRequest, httpGet, pinned, ready, SUT_CORE, startNode, stop } from './processes.ts';
import type { Workload } from './workload.ts';

export interface FeedStall {
  /** Longest event-loop stall under load while the feed refreshed, ms (beyond the 1 ms timer). */
  withRefreshesMs: number;
  /** ... under the same load with the feed unchanged, ms. */
  controlMs: number;
  /** ... of the bare node:http proxy under the same load, ms. */
  bareProxyMs: number;
  /** Longest stall of a do-nothing process on the same core over all three phases, ms. */
  machineMs: number;
  refreshes: number;
  entries: number;
  /**
   * Parse jobs the enforcer started again at normal priority because requests starved them: 0
   * unless the load saturated its core, when the stall includes a parse at normal priority.
   */
  jobsRaised: number;
}

/**
 * A feed of `entries` lines, four IPv4 /30s to one IPv6 /64, none of them a client's; `variant`
 * gives another list of the same shape. Written without holding the lines.
 */
export function writeMillionFeed(file: string, entries: number, variant = 0): void {
  const out = Buffer.allocUnsafe(entries * 40);
  let at = 0;
  for (let i = 0; i < entries; i++) {
    const line =
      i % 5 === 4
        ? `2001:db8:${(i >> 16).toString(16)}:${((i + variant) & 0xffff).toString(16)}::/64\n`
        : `${200 + ((i >>> 16) % 23)}.${(i >>> 8) & 255}.${i & 255}.${variant * 4}/30\n`;
    at += out.write(line, at, 'latin1');
  }
  writeFileSync(file, out.subarray(0, at));
}

async function stallMs(adminUrl: string): Promise<number> {
  return (await scrapeStall(adminUrl)).stallMs;
}

/** The longest stall a process reports on SIGUSR2 (loop-delay-probe.ts, the bare proxy's monitor). */
function reportedStallMs(probe: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    probe.stdout!.once('data', (d: Buffer) =>
      resolve(Math.round((JSON.parse(d.toString()) as { maxMs: number }).maxMs)),
    );
    probe.kill('SIGUSR2');
  });
}

export async function feedMetrics(adminUrl: string): Promise<{ entries: number; jobsRaised: number }> {
  const { body } = await httpGet(`${adminUrl}/metrics`);
  return {
    entries: Number(/^riskgate_feed_entries\{feed="million"\} (\d+)$/m.exec(body)?.[1] ?? 0),
    jobsRaised: Number(
      /^riskgate_background_threads_total\{priority="raised"\} (\d+)$/m.exec(body)?.[1] ?? 0,
    ),
  };
}

/**
 * The bench policy with a feed of `entries` lines beside its own, re-read every `refreshInterval`;
 * `swapNext` replaces the list with the other of two (atomically, as a ConfigMap volume or a
 * download would), so every refresh parses a new list. The second list holds `secondEntries`
 * lines (by default as many), so that its arrival can be seen in `riskgate_feed_entries`.
 */
export function feedThatChanges(
  dir: string,
  workload: Workload,
  entries: number,
  options: { refreshInterval?: string; secondEntries?: number } = {},
): { policyFile: string; swapNext: () => void } {
  const feed = join(dir, 'million.txt');
  const lists = [join(dir, 'million-a.txt'), join(dir, 'million-b.txt')];
  lists.forEach((file, variant) => {
    writeMillionFeed(file, variant === 0 ? entries : (options.secondEntries ?? entries), variant);
    const at = new Date(Date.now() - (2 - variant) * 60_000);
    utimesSync(file, at, at);
  });
  const swapIn = (list: string) => {
    rmSync(`${feed}.next`, { force: true });
    linkSync(list, `${feed}.next`);
    renameSync(`${feed}.next`, feed);
    rmSync(`${feed}.next`, { force: true });
  };
  swapIn(lists[0]!);
  const policyFile = join(dir, 'million-feed.yaml');
  writeFileSync(
    policyFile,
    readFileSync(workload.policy('enforce'), 'utf8').replace(
      '- { name: large-feed, file: feed.txt, refreshInterval: 1h }',
      `- { name: large-feed, file: feed.txt, refreshInterval: 1h }\n        - { name: million, file: million.txt, refreshInterval: ${options.refreshInterval ?? '3s'} }`,
    ),
  );
  let swaps = 0;
  return { policyFile, swapNext: () => swapIn(lists[++swaps % 2]!) };
}

export async function measureFeedStallUnderLoad(
  root: string,
  options: {
    dir: string;
    upstreamPort: number;
    workload: Workload;
    entries: number;
    warmSeconds: number;
    seconds: number;
    /** Sends the request mix to `url` at a fixed rate for `seconds`. */
    load: (url: string, seconds: number) => Promise<void>;
  },
): Promise<FeedStall> {
  const { policyFile, swapNext } = feedThatChanges(options.dir, options.workload, options.entries);
  const { child, url, adminUrl } = await startMonitoredEnforcer(root, options.upstreamPort, policyFile);
  const probe = pinned(SUT_CORE, process.execPath, [join(root, 'bench/loop-delay-probe.ts')]);
  await ready(probe);
  const load = () => options.load(url, options.seconds);
  try {
    cpuPerRequest(root, url, child.pid!, options.workload.files, options.warmSeconds);
    await resetStallWindow(adminUrl);
    await reportedStallMs(probe);
    await load();
    const controlMs = await stallMs(adminUrl);
    const machineControlMs = await reportedStallMs(probe);
    let refreshes = 0;
    const swap = setInterval(() => {
      refreshes++;
      swapNext();
    }, 3000);
    await load();
    clearInterval(swap);
    const withRefreshesMs = await stallMs(adminUrl);
    const machineRefreshMs = await reportedStallMs(probe);
    const { entries, jobsRaised } = await feedMetrics(adminUrl);
    if (entries !== options.entries) throw new Error('the million-entry feed did not load');
    await stop(child);
    const barePort = await freePort();
    const bare = await startNode(
      root,
      'bench/bare-node-proxy.ts',
      [String(barePort), `http://127.0.0.1:${options.upstreamPort}`],
      { BENCH_LOOP_MONITOR: '1' },
    );
    try {
      const bareUrl = `http://127.0.0.1:${barePort}`;
      cpuPerRequest(root, bareUrl, bare.pid!, options.workload.files, options.warmSeconds);
      await reportedStallMs(bare);
      await reportedStallMs(probe);
      await options.load(bareUrl, options.seconds);
      const bareProxyMs = await reportedStallMs(bare);
      const machineMs = Math.max(machineControlMs, machineRefreshMs, await reportedStallMs(probe));
      return {
        withRefreshesMs,
        controlMs,
        bareProxyMs,
        machineMs,
        refreshes,
        entries: options.entries,
        jobsRaised,
      };
    } finally {
      await stop(bare);
    }
  } finally {
    await Promise.all([stop(child), stop(probe)]);
  }
}
