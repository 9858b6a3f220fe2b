/**
 * The process metrics (CPU, memory, heap spaces, event-loop delay, file descriptors, handles):
 * prom-client's default collectors, all but its GC duration histogram.
 *
 * Why not that one: it observes every collection through a `gc` PerformanceObserver, and Node
 * builds each such entry in JavaScript (deprecated accessors included) on the main thread —
 * about 47 µs per collection measured here. At a proxy's allocation rate (one scavenge every
 * ~130 requests) that is ~0.4 µs on every request, more than some signals cost. Heap sizes per
 * space and the event-loop delay show GC pressure without it.
 */
import { createRequire } from 'node:module';
import type { Registry } from 'prom-client';

type Collector = (
  registry: Registry,
  config: { prefix: string; eventLoopMonitoringPrecision: number },
) => void;

/** prom-client 15's default collectors by file (lib/defaultMetrics.js), without `gc`. */
export const PROCESS_COLLECTORS = [
  'processCpuTotal',
  'processStartTime',
  'osMemoryHeap',
  'processOpenFileDescriptors',
  'processMaxFileDescriptors',
  'eventLoopLag',
  'processResources',
  'processHandles',
  'processRequests',
  'heapSizeAndUsed',
  'heapSpacesSizeAndUsed',
  'version',
] as const;

const require = createRequire(import.meta.url);

/**
 * The event-loop monitor's timer interval, ms (`RISKGATE_EVENT_LOOP_RESOLUTION_MS`, 1–1000).
 * perf_hooks records each whole interval between its timer's runs, so the longest "lag" it
 * reports is the longest stall plus up to one interval. 10 (prom-client's) costs nothing
 * measurable; 1 measures stalls to the millisecond for about 1.7 ms of CPU a second even when
 * idle, which is why it is for benchmarks (`make bench` sets it), not the default.
 */
export function eventLoopResolutionMs(value = process.env['RISKGATE_EVENT_LOOP_RESOLUTION_MS']): number {
  const ms = Number(value);
  return Number.isInteger(ms) && ms >= 1 && ms <= 1000 ? ms : 10;
}

export function collectProcessMetrics(
  registry: Registry,
  prefix: string,
  resolutionMs = eventLoopResolutionMs(),
): void {
  for (const name of PROCESS_COLLECTORS) {
    const collect = require(`prom-client/lib/metrics/${name}.js`) as Collector;
    collect(registry, { prefix, eventLoopMonitoringPrecision: resolutionMs });
  }
}
