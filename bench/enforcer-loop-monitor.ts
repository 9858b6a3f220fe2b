/**
 * The enforcer's own event-loop monitor, read the way the stall measures read it
 * (feed-refresh-under-load.ts, policy-reload-under-load.ts): started at a 1 ms interval, since
 * perf_hooks records whole intervals and at the default 10 ms a stall would read up to 10 ms
 * long; read and reset by each `/metrics` scrape.
 */
import type { ChildProcess } from 'node:child_process';
import { freePort } from '../test/support/free-port.ts';
import { httpGet, startEnforcer } from './processes.ts';
import { stallBeyondIntervalMs } from './stats.ts';

const RESOLUTION_MS = 1;

/** An enforcer on `policy` in front of the app, its monitor at the measures' interval. */
export async function startMonitoredEnforcer(
  root: string,
  upstreamPort: number,
  policy: string,
): Promise<{ child: ChildProcess; url: string; adminUrl: string }> {
  const [listen, admin] = [await freePort(), await freePort()];
  const child = await startEnforcer(root, {
    listen,
    admin,
    upstream: `http://127.0.0.1:${upstreamPort}`,
    policy,
    env: { RISKGATE_EVENT_LOOP_RESOLUTION_MS: String(RESOLUTION_MS) },
  });
  return { child, url: `http://127.0.0.1:${listen}`, adminUrl: `http://127.0.0.1:${admin}` };
}

/** The enforcer's longest stall since the last scrape, ms beyond its timer's interval, and the scrape. */
export async function scrapeStall(adminUrl: string): Promise<{ stallMs: number; metrics: string }> {
  const { body } = await httpGet(`${adminUrl}/metrics`);
  const m = /^riskgate_nodejs_eventloop_lag_max_seconds ([\d.e+-]+)$/m.exec(body);
  if (!m) throw new Error('the enforcer reports no event-loop lag');
  return { stallMs: Math.round(stallBeyondIntervalMs(Number(m[1]) * 1000, RESOLUTION_MS)), metrics: body };
}

/**
 * A process's first scrape runs cold (~22 ms here against 4-9 after): scraped once beforehand and
 * reset, so a measured window holds one warm scrape's tail, as every Prometheus scrape would.
 */
export async function resetStallWindow(adminUrl: string): Promise<void> {
  await scrapeStall(adminUrl);
  await new Promise((r) => setTimeout(r, 500));
  await scrapeStall(adminUrl);
}
