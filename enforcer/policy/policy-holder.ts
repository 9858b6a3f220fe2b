/**
 * Holds the running policy and swaps it when the source changes. Requests read `current` once
 * and keep that object, so a swap never tears a request in half. A new policy that fails to
 * load or compile is refused and the last good one keeps running.
 */
import { EventEmitter } from 'node:events';
import type { RiskPolicy } from '../../api/riskpolicy.ts';
import type { ValidationResult } from '../../api/validate.ts';
import { policyHash } from '../../contract/policy-hash.ts';
import { type CompileOptions, compilePolicy } from './compile.ts';
import type { CompiledPolicy } from './compiled-policy.ts';
import {
  filesStamp,
  fingerprint,
  type LoadedPolicy,
  loadPolicyOffThread,
  validateTextOffThread,
} from './policy-files.ts';

export interface ReloadResult {
  ok: boolean;
  hash?: string;
  error?: string;
}

export class PolicyHolder extends EventEmitter<{ reload: [ReloadResult] }> {
  current: CompiledPolicy | undefined;
  lastError: string | undefined;
  private readonly path: string;
  private readonly secretsDir: string | undefined;
  private lastFingerprint = '';
  private timer: NodeJS.Timeout | undefined;
  private loading: Promise<ReloadResult> | undefined;

  private readonly extra: Pick<CompileOptions, 'sharedFeeds'>;

  constructor(path: string, secretsDir?: string, extra: Pick<CompileOptions, 'sharedFeeds'> = {}) {
    super();
    this.path = path;
    this.secretsDir = secretsDir;
    this.extra = extra;
  }

  /** Loads now; throws nothing: the result says whether a policy is running. */
  reload(): Promise<ReloadResult> {
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  /** The policy source and the files the running policy reads besides it. */
  private stamp(): string {
    return `${fingerprint(this.path)}#${filesStamp(this.current?.watchedFiles ?? [])}`;
  }

  private async load(): Promise<ReloadResult> {
    this.lastFingerprint = this.stamp();
    let loaded: LoadedPolicy;
    try {
      loaded = await loadPolicyOffThread(this.path);
    } catch (err) {
      return this.refuse((err as Error).message);
    }
    return this.install(loaded.policy, loaded.file);
  }

  /**
   * Applies a policy pushed by the operator (Redis pub/sub): the fast path, ahead of the kubelet
   * syncing the mounted ConfigMap. Same rules as a file: invalid is refused, the last good stays.
   */
  applyText(text: string): Promise<ReloadResult> {
    const run = async (): Promise<ReloadResult> => {
      let result: ValidationResult;
      try {
        result = await validateTextOffThread(text, 'pushed config');
      } catch (err) {
        return this.refuse((err as Error).message);
      }
      if (result.errors.length > 0 || result.policies.length !== 1) {
        return this.refuse(
          result.errors.map((e) => `${e.path}: ${e.message}`).join('; ') || 'expected exactly one RiskPolicy',
        );
      }
      const policy = result.policies[0]!.policy;
      // The mounted file will bring the same policy later: nothing to recompile then.
      if (this.current && policyHash(policy) === this.current.hash)
        return { ok: true, hash: this.current.hash };
      return this.install(policy, this.current?.source ?? this.path);
    };
    return (this.loading ?? Promise.resolve()).then(run, run);
  }

  /** Compiles and swaps in a validated policy; a compile failure keeps the running one. */
  private async install(policy: RiskPolicy, source: string): Promise<ReloadResult> {
    const previous = this.current;
    let compiled: CompiledPolicy;
    try {
      compiled = await compilePolicy(policy, {
        source,
        previous,
        ...(this.secretsDir ? { secretsDir: this.secretsDir } : {}),
        ...this.extra,
      });
    } catch (err) {
      return this.refuse((err as Error).message);
    }
    this.current = compiled;
    previous?.stop();
    this.lastError = undefined;
    this.lastFingerprint = this.stamp();
    const result = { ok: true, hash: compiled.hash };
    this.emit('reload', result);
    return result;
  }

  private refuse(error: string): ReloadResult {
    this.lastError = error;
    const result = { ok: false, error };
    this.emit('reload', result);
    return result;
  }

  /**
   * Polls the source and the files it names; a ConfigMap or Secret symlink swap, or an edit, is
   * picked up within `intervalMs`.
   */
  watch(intervalMs = 1000): void {
    this.timer = setInterval(() => {
      if (this.loading) return;
      if (this.stamp() !== this.lastFingerprint) void this.reload();
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.current?.stop();
  }
}
