/**
 * Runs the jobs that parse feeds and policies on worker threads at the lowest scheduling
 * priority, so they take the core only when the request path does not want it — and starts a
 * job again at normal priority when the request path leaves it starving, so no flood of requests
 * can hold back a policy edit or a feed correction.
 *
 * Why low: a sidecar usually has one core or less. A worker thread at the main thread's priority
 * gets an equal share of it, in slices of several milliseconds: while a million-line feed parsed,
 * the main thread waited up to 130 ms between two turns (perf sched, bench/README.md "Background
 * threads yield the core"). At nice 19 the main thread takes the core back as soon as it wakes.
 *
 * Why raised again: at nice 19 a thread gets ~1.5% of a core the main thread saturates. Under a
 * flood, no million-line feed landed in 36 s, and a large policy edit — the allow-list entry for
 * a locked-out user, the block of the flood itself — waited the same way. An unprivileged
 * thread cannot lower its nice value again (RLIMIT_NICE is 0 in a container), so a job whose
 * thread has had under a quarter of a core since it started, two seconds on, is started afresh
 * at normal priority and the starved thread ended. A job that gets its share keeps its low
 * priority however long it runs.
 *
 * Linux keeps a nice value per thread, and raising one's own needs no privilege. Node has no API
 * for a thread's id, so the new thread is the one that appears in /proc/self/task across
 * `new Worker()` (which creates it before returning; only the main thread creates threads, so
 * nothing else can appear in between). Lowered from the main thread rather than by the worker
 * itself, so the worker's start-up — its own isolate and modules, ~15-40 ms of CPU — runs at
 * the low priority too.
 *
 * V8's own helper threads (GC, compilers) are left alone: the main thread waits on them inside a
 * collection, and a helper starved by a busy main thread would lengthen that pause.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { constants, setPriority } from 'node:os';
import { Worker, type WorkerOptions } from 'node:worker_threads';

const TASKS = '/proc/self/task';

/**
 * Background threads started: at the low priority, at normal priority where the system did not
 * allow lowering it, and raised — started again at normal priority because requests starved a
 * low one.
 */
export const backgroundThreads = { lowered: 0, normal: 0, raised: 0 };

/** How long a job runs at the low priority before its share of the core is first looked at. */
const STARVED_AFTER_MS = 2_000;
/** Below this share of one core since it started, a low-priority job is starving. */
const STARVED_SHARE = 0.25;
const CHECK_EVERY_MS = 500;
/** /proc reports a thread's CPU time in clock ticks: 100 per second on Linux. */
const MS_PER_TICK = 10;

function threadIds(): Set<string> | undefined {
  try {
    return new Set(readdirSync(TASKS));
  } catch {
    return undefined; // not Linux: no per-thread priority to set
  }
}

/** CPU time a thread has used, ms; undefined once it is gone. */
function cpuMsOf(tid: string): number | undefined {
  try {
    const stat = readFileSync(`${TASKS}/${tid}/stat`, 'latin1');
    // utime and stime, fields 14 and 15; the command name before them may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
  } catch {
    return undefined;
  }
}

interface Started {
  worker: Worker;
  /** The worker's thread, when it was found and lowered. */
  lowTid: string | undefined;
}

function start(file: URL | string, options: WorkerOptions, low: boolean): Started {
  const before = low ? threadIds() : undefined;
  const worker = new Worker(file, options);
  if (!low) return { worker, lowTid: undefined };
  const started = before && [...(threadIds() ?? [])].filter((tid) => !before.has(tid));
  let lowered = started !== undefined && started.length > 0;
  for (const tid of started ?? []) {
    try {
      setPriority(Number(tid), constants.priority.PRIORITY_LOW);
    } catch {
      lowered = false; // refused (a seccomp profile) or already gone: it runs at normal priority
    }
  }
  if (lowered) backgroundThreads.lowered++;
  else backgroundThreads.normal++;
  return { worker, lowTid: lowered && started!.length === 1 ? started![0] : undefined };
}

/** A worker thread started at the lowest priority, for whoever talks to it longer than one job (tests). */
export function startBackgroundWorker(file: URL | string, options: WorkerOptions): Worker {
  return start(file, options, true).worker;
}

/**
 * Runs a one-shot job — a worker that posts one answer — at the lowest priority, and again at
 * normal priority if it starves. `workerData` must survive a second start: nothing transferred
 * (share large bytes through a SharedArrayBuffer instead).
 */
export function runBackgroundJob<T>(
  file: URL | string,
  workerData: unknown,
  options: { starvedAfterMs?: number } = {},
): Promise<T> {
  const starvedAfterMs = options.starvedAfterMs ?? STARVED_AFTER_MS;
  return new Promise<T>((resolve, reject) => {
    let current: Worker;
    let watch: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (settle: () => void) => {
      if (done) return;
      done = true;
      clearInterval(watch);
      settle();
    };
    const listen = (worker: Worker) => {
      worker.once('message', (answer: T) => finish(() => resolve(answer)));
      worker.once('error', (err) => finish(() => reject(err)));
      worker.once('exit', (code) => {
        // A starved thread ended on purpose is not the job failing.
        if (worker === current) finish(() => reject(new Error(`background job exited with ${code}`)));
      });
    };
    const first = start(file, { workerData }, true);
    current = first.worker;
    listen(current);
    const tid = first.lowTid;
    if (tid === undefined) return; // at normal priority already: nothing to raise
    const startedAt = performance.now();
    watch = setInterval(() => {
      const waited = performance.now() - startedAt;
      if (waited < starvedAfterMs) return;
      const used = cpuMsOf(tid);
      if (used === undefined || used >= waited * STARVED_SHARE) return;
      clearInterval(watch);
      let raised: Worker;
      try {
        raised = start(file, { workerData }, false).worker;
      } catch {
        return; // no thread to be had: the starved one still runs, and answers in time
      }
      const starved = current;
      current = raised;
      backgroundThreads.raised++;
      listen(raised);
      void starved.terminate();
    }, CHECK_EVERY_MS);
    watch.unref();
  });
}
