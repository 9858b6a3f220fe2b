import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSecurityRow } from '../../test/support/security-doc.ts';
import { backgroundThreads, runBackgroundJob, startBackgroundWorker } from './background-worker.ts';

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

/** testdata/saturated-core.ts pinned to one core, its main thread busy throughout: its report. */
async function underFlood(mode: 'job' | 'feed' | 'policy'): Promise<{
  answer: unknown;
  lowered: number;
  normal: number;
  raised: number;
}> {
  const core = String(availableParallelism() - 1);
  const script = join(import.meta.dirname, 'testdata/saturated-core.ts');
  // Killed if it outlives the test: its main thread spins until the job answers.
  const child = spawn('taskset', ['-c', core, process.execPath, script, mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 25_000,
    killSignal: 'SIGKILL',
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const [code] = await once(child, 'exit');
  expect(code).toBe(0);
  return JSON.parse(out);
}

describe.runIf(process.platform === 'linux')('runBackgroundJob under a flood', () => {
  // At nice 19 a thread gets ~1.5% of a core the main thread keeps busy: this job's 300 ms of
  // CPU would take ~20 s, and a policy edit or feed correction as long or longer.
  it('starts a starving job again at normal priority, and takes its answer', async () => {
    const report = await underFlood('job');
    expect(report.answer).toEqual({ nice: 0 });
    expect(report).toMatchObject({ lowered: 1, normal: 0, raised: 1 });
  });

  it('gives the raised worker the same bytes: a feed from a download lands whole', async () => {
    const report = await underFlood('feed');
    expect(report.answer).toEqual({ entries: 100_000, listed: true, unlisted: false });
    expect(report).toMatchObject({ lowered: 1, raised: 1 });
    checkSecurityRow(
      'fault-flood-parse',
      'a 100,000-line feed handed over as bytes, on one core whose main thread never idled: started at nice 19, raised once, landed whole (100000 entries)',
    );
  });

  it('lands a policy edit that is parsed off the event loop', async () => {
    const report = await underFlood('policy');
    expect(report.answer).toEqual({ name: 'quickstart' });
    expect(report).toMatchObject({ lowered: 1, raised: 1 });
  });
});

describe('runBackgroundJob', () => {
  it('rejects when the job fails instead of answering', async () => {
    const job = new URL('./testdata/cpu-job.ts', import.meta.url);
    await expect(runBackgroundJob(job, undefined)).rejects.toThrow(TypeError);
  });
});
