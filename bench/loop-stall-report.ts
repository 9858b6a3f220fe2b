/**
 * A bench process's own stall reading, for processes that have no /metrics of theirs (the idle
 * probe, the bare proxy): the event loop watched every `resolutionMs`; on SIGUSR2 the longest
 * stall since the last report (ms beyond the timer) goes to stdout as `{"maxMs":…}`, and the
 * reading starts over. bench/feed-refresh-under-load.ts reads it.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { stallBeyondIntervalMs } from './stats.ts';

export function reportStallsOnSignal(resolutionMs: number): void {
  const delay = monitorEventLoopDelay({ resolution: resolutionMs });
  delay.enable();
  process.on('SIGUSR2', () => {
    process.stdout.write(
      `${JSON.stringify({ maxMs: stallBeyondIntervalMs(delay.max / 1e6, resolutionMs) })}\n`,
    );
    delay.reset();
  });
}
