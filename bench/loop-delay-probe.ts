/**
 * The machine's share of a stall: a process that does nothing but watch its own event loop, on
 * the core of the process under test. Whatever delays it is the machine (the scheduler, the
 * hypervisor), not anything the enforcer runs. Prints `ready`; on SIGUSR2 prints the longest
 * delay since the last report, in ms beyond its 1 ms timer, and starts over.
 */
import { reportStallsOnSignal } from './loop-stall-report.ts';

reportStallsOnSignal(1);
process.on('SIGTERM', () => process.exit(0));
setInterval(() => {}, 1 << 30);
process.stdout.write('ready\n');
