/**
 * Reads the policy from a file or a folder. A folder is what a Kubernetes ConfigMap volume
 * looks like: visible files are symlinks into a hidden `..data` folder that is swapped
 * atomically on update, so dot-entries are skipped and links are followed.
 */
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RiskPolicy } from '../../api/riskpolicy.ts';
import { type ValidationResult, validateText } from '../../api/validate.ts';
import { runBackgroundJob } from '../threads/background-worker.ts';

export class PolicyFileError extends Error {
  readonly code = 'RG_ERR_POLICY_INVALID';
}

const POLICY_FILE = /\.(ya?ml|json)$/;

export function policyFilesOf(path: string): string[] {
  const info = statSync(path);
  if (!info.isDirectory()) return [path];
  return readdirSync(path)
    .filter((name) => !name.startsWith('.') && POLICY_FILE.test(name))
    .sort()
    .map((name) => join(path, name));
}

/** Changes whenever a policy file is added, removed, rewritten or re-pointed. */
export function fingerprint(path: string): string {
  try {
    return policyFilesOf(path)
      .map((f) => {
        const real = realpathSync(f);
        const s = statSync(real);
        return `${f}>${real}:${s.mtimeMs}:${s.size}`;
      })
      .join('|');
  } catch (err) {
    return `error:${(err as NodeJS.ErrnoException).code}`;
  }
}

/** Changes whenever one of these files appears, disappears or is rewritten or re-pointed. */
export function filesStamp(files: readonly string[]): string {
  return files
    .map((f) => {
      try {
        const real = realpathSync(f);
        const s = statSync(real);
        return `${real}:${s.mtimeMs}:${s.size}`;
      } catch {
        return `${f}:missing`;
      }
    })
    .join('|');
}

export interface LoadedPolicy {
  policy: RiskPolicy;
  /** The file the policy came from: relative feed and key paths resolve against its folder. */
  file: string;
}

/** Loads exactly one valid RiskPolicy; throws PolicyFileError listing every problem. */
export function loadPolicy(path: string): LoadedPolicy {
  let files: string[];
  try {
    files = policyFilesOf(path);
  } catch (err) {
    throw new PolicyFileError(`${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  const found: LoadedPolicy[] = [];
  const problems: string[] = [];
  for (const file of files) {
    const result = validateText(readFileSync(file, 'utf8'), file);
    for (const e of result.errors)
      problems.push(`${e.file}${e.line ? `:${e.line}` : ''}: ${e.path}: ${e.message}`);
    for (const p of result.policies) found.push({ policy: p.policy, file });
  }
  if (problems.length > 0) throw new PolicyFileError(problems.join('\n'));
  if (found.length !== 1) {
    throw new PolicyFileError(`${path}: expected exactly one RiskPolicy, found ${found.length}`);
  }
  return found[0]!;
}

/** Policies this large are parsed and validated on a worker thread; smaller ones inline (a few ms). */
export const OFF_THREAD_BYTES = 16 * 1024;

function sizeOf(path: string): number {
  try {
    return policyFilesOf(path).reduce((sum, f) => sum + statSync(f).size, 0);
  } catch {
    return 0;
  }
}

type WorkerAnswer =
  | { ok: true; policy: RiskPolicy; file: string }
  | { ok: true; result: ValidationResult }
  | { ok: false; message: string };

async function onWorker(job: { path: string } | { text: string; name: string }): Promise<WorkerAnswer> {
  // The compiled image runs dist/…/policy-parse-worker.js; the sources run the .ts beside this.
  const file = new URL(
    `./policy-parse-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
    import.meta.url,
  );
  return runBackgroundJob<WorkerAnswer>(file, job);
}

/** loadPolicy, with a large policy read, parsed and validated on a worker thread. */
export async function loadPolicyOffThread(path: string): Promise<LoadedPolicy> {
  if (sizeOf(path) < OFF_THREAD_BYTES) return loadPolicy(path);
  const answer = await onWorker({ path });
  if (!answer.ok) throw new PolicyFileError(answer.message);
  if (!('policy' in answer)) throw new Error('policy parser answered out of turn');
  return { policy: answer.policy, file: answer.file };
}

/** validateText, with a large text parsed and validated on a worker thread. */
export async function validateTextOffThread(text: string, name: string): Promise<ValidationResult> {
  if (text.length < OFF_THREAD_BYTES) return validateText(text, name);
  const answer = await onWorker({ text, name });
  if (!answer.ok) throw new Error(answer.message);
  if (!('result' in answer)) throw new Error('policy parser answered out of turn');
  return answer.result;
}
