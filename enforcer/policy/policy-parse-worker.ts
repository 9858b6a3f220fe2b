/**
 * Reads, parses and validates a policy on a worker thread and hands back the validated policy
 * (policy-files.ts loadPolicyOffThread starts it). A policy with a thousand routes takes a few
 * hundred milliseconds to parse as YAML and validate: on the main thread, a stall of every
 * request the running policy is deciding meanwhile.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { validateText } from '../../api/validate.ts';
import { loadPolicy } from './policy-files.ts';

const job = workerData as { path: string } | { text: string; name: string };
try {
  if ('path' in job) {
    const loaded = loadPolicy(job.path);
    parentPort!.postMessage({ ok: true, policy: loaded.policy, file: loaded.file });
  } else {
    const result = validateText(job.text, job.name);
    parentPort!.postMessage({ ok: true, result });
  }
} catch (err) {
  parentPort!.postMessage({ ok: false, message: (err as Error).message });
}
