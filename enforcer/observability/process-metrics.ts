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

export function collectProcessMetrics(registry: Registry, prefix: string): void {
  for (const name of PROCESS_COLLECTORS) {
    const collect = require(`prom-client/lib/metrics/${name}.js`) as Collector;
    collect(registry, { prefix, eventLoopMonitoringPrecision: 10 });
  }
}
