import { collectDefaultMetrics, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { collectProcessMetrics, eventLoopResolutionMs, PROCESS_COLLECTORS } from './process-metrics.ts';

describe('process metrics', () => {
  it('are prom-client’s default collectors except the GC observer', () => {
    // Fails when a prom-client upgrade adds, renames or drops a collector.
    expect([...PROCESS_COLLECTORS].sort()).toEqual(
      collectDefaultMetrics.metricsList.filter((name) => name !== 'gc').sort(),
    );
  });

  it('render CPU, memory, heap and event-loop metrics under the prefix, and no GC histogram', async () => {
    const registry = new Registry();
    collectProcessMetrics(registry, 'riskgate_');
    const text = await registry.metrics();
    expect(text).toMatch(/^riskgate_process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^riskgate_process_resident_memory_bytes \d/m);
    expect(text).toMatch(/^riskgate_nodejs_heap_space_size_used_bytes\{space="old"\} \d/m);
    expect(text).toMatch(/^riskgate_nodejs_eventloop_lag_p99_seconds \d/m);
    expect(text).toMatch(/^riskgate_nodejs_version_info\{/m);
    expect(text).not.toContain('gc_duration');
  });

  it('watch the event loop every 10 ms unless told a whole number of ms from 1 to 1000', () => {
    expect(eventLoopResolutionMs(undefined)).toBe(10);
    expect(eventLoopResolutionMs('1')).toBe(1);
    expect(eventLoopResolutionMs('1000')).toBe(1000);
    for (const bad of ['0', '-5', '1.5', '1001', 'fast', '', ' '])
      expect(eventLoopResolutionMs(bad), bad).toBe(10);
  });
});
