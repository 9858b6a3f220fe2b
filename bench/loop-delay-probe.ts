/**
 * The machine's share of a stall: a process that does nothing but watch its own event loop, on
 * the core of the process under test. Whatever delays it is the machine (the scheduler, the
 * hypervisor), not anything the enforcer runs. Prints `ready`; on SIGUSR2 prints the longest
 * delay since the last report, in ms beyond its 1 ms timer, and starts over.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { stallBeyondIntervalMs } from './stats.ts';

const RESOLUTION_MS = 1;
const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
delay.enable();
process.on('SIGUSR2', () => {
  process.stdout.write(
    `${JSON.stringify({ maxMs: stallBeyondIntervalMs(delay.max / 1e6, RESOLUTION_MS) })}\n`,
  );
  delay.reset();
});
process.on('SIGTERM', () => process.exit(0));
setInterval(() => {}, 1 << 30);
process.stdout.write('ready\n');
