/**
 * Starts the worker threads that parse feeds and policies at the lowest scheduling priority, so
 * they take the core only when the request path does not want it.
 *
 * Why: a sidecar usually has one core or less. A worker thread at the main thread's priority gets
 * an equal share of it, in slices of several milliseconds: while a million-line feed parsed, the
 * main thread waited up to 130 ms between two turns (perf sched, bench/README.md "Background
 * threads yield the core"). At nice 19 the main thread takes the core back as soon as it wakes.
 *
 * Linux keeps a nice value per thread, and raising one's own needs no privilege. Node has no API
 * for a thread's id, so the new thread is the one that appears in /proc/self/task across
 * `new Worker()` (which creates it before returning; only the main thread creates threads, so
 * nothing else can appear in between). Lowered from the main thread rather than by the worker
 * itself, so the worker's start-up — its own isolate and modules, ~15-40 ms of CPU — runs at
 * the low priority too.
 *
 * The price: on a core saturated by requests a refresh waits for the gaps. The last good feed and
 * policy keep serving meanwhile, and `riskgate_feed_age_seconds` and `riskgate_feed_stale` show
 * the wait.
 *
 * V8's own helper threads (GC, compilers) are left alone: the main thread waits on them inside a
 * collection, and a helper starved by a busy main thread would lengthen that pause.
 */
import { readdirSync } from 'node:fs';
import { constants, setPriority } from 'node:os';
import { Worker, type WorkerOptions } from 'node:worker_threads';

const TASKS = '/proc/self/task';

/** How many background threads started at the low priority, and how many could not be lowered. */
export const backgroundThreads = { lowered: 0, normal: 0 };

function threadIds(): Set<string> | undefined {
  try {
    return new Set(readdirSync(TASKS));
  } catch {
    return undefined; // not Linux: no per-thread priority to set
  }
}

export function startBackgroundWorker(file: URL | string, options: WorkerOptions): Worker {
  const before = threadIds();
  const worker = new Worker(file, options);
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
  return worker;
}
