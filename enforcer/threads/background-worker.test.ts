import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { backgroundThreads, startBackgroundWorker } from './background-worker.ts';

/** A thread's nice value, from /proc (field 19 of its stat line). */
function niceOf(tid: string): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

const tasks = () => new Set(readdirSync('/proc/self/task'));

// A worker that spins until told to stop, then reports its own nice value.
const SPIN = `
const { parentPort } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
let stop = false;
parentPort.on('message', () => { stop = true; });
const spin = () => {
  const until = Date.now() + 5;
  while (Date.now() < until);
  if (!stop) return setImmediate(spin);
  const stat = readFileSync('/proc/thread-self/stat', 'utf8');
  parentPort.postMessage(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
  parentPort.close();
};
spin();
`;

describe.runIf(process.platform === 'linux')('startBackgroundWorker', () => {
  it('starts the thread at the lowest priority, from its first instruction, and leaves the main thread alone', async () => {
    const mainNice = niceOf(String(process.pid));
    const before = tasks();
    const counted = backgroundThreads.lowered;
    const worker = startBackgroundWorker(SPIN, { eval: true });
    // Read at once: the worker's own start-up (isolate, bootstrap) already runs at nice 19.
    const started = [...tasks()].filter((tid) => !before.has(tid));
    expect(started).toHaveLength(1);
    expect(niceOf(started[0]!)).toBe(19);
    expect(niceOf(String(process.pid))).toBe(mainNice);
    expect(backgroundThreads.lowered).toBe(counted + 1);
    worker.postMessage('stop');
    const [seenByItself] = await once(worker, 'message');
    expect(seenByItself).toBe(19);
    await once(worker, 'exit');
  });

  it('does not lower the other threads of the process (V8 helpers, libuv pool)', async () => {
    const others = [...tasks()].filter((tid) => tid !== String(process.pid));
    const nices = new Map(others.map((tid) => [tid, niceOf(tid)]));
    const worker = startBackgroundWorker(SPIN, { eval: true });
    worker.postMessage('stop');
    await once(worker, 'message');
    for (const [tid, nice] of nices) if (tasks().has(tid)) expect(niceOf(tid)).toBe(nice);
    await once(worker, 'exit');
  });
});
