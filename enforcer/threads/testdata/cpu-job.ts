/** A background job that needs `cpuMs` of its own thread's CPU time, then answers with its thread's nice value. */
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const { cpuMs } = workerData as { cpuMs: number };
const used = () => {
  const { user, system } = process.threadCpuUsage();
  return (user + system) / 1000;
};
while (used() < cpuMs);
const stat = readFileSync('/proc/thread-self/stat', 'utf8');
parentPort!.postMessage({ nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) });
