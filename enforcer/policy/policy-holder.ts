/**
 * Holds the running policy and swaps it when the source changes. Requests read `current` once
 * and keep that object, so a swap never tears a request in half. A new policy that fails to
 * load or compile is refused and the last good one keeps running.
 */
import { EventEmitter } from 'node:events';
import { validateText } from '../../api/validate.ts';
import { type CompileOptions, compilePolicy, policyHash } from './compile.ts';
import type { CompiledPolicy } from './compiled-policy.ts';
import { fingerprint, loadPolicy } from './policy-files.ts';

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

  private async load(): Promise<ReloadResult> {
    this.lastFingerprint = fingerprint(this.path);
    let result: ReloadResult;
    try {
      const { policy, file } = loadPolicy(this.path);
      const previous = this.current;
      const compiled = await compilePolicy(policy, {
        source: file,
        previous,
        ...(this.secretsDir ? { secretsDir: this.secretsDir } : {}),
        ...this.extra,
      });
      this.current = compiled;
      previous?.stop();
      this.lastError = undefined;
      result = { ok: true, hash: compiled.hash };
    } catch (err) {
      this.lastError = (err as Error).message;
      result = { ok: false, error: this.lastError };
    }
    this.emit('reload', result);
    return result;
  }

  /**
   * Applies a policy pushed by the operator (Redis pub/sub): the fast path, ahead of the kubelet
   * syncing the mounted ConfigMap. Same rules as a file: invalid is refused, the last good stays.
   */
  applyText(text: string): Promise<ReloadResult> {
    const run = async (): Promise<ReloadResult> => {
      const result = validateText(text, 'pushed config');
      const found = result.policies;
      if (result.errors.length > 0 || found.length !== 1) {
        const error =
          result.errors.map((e) => `${e.path}: ${e.message}`).join('; ') || 'expected exactly one RiskPolicy';
        this.emit('reload', { ok: false, error });
        return { ok: false, error };
      }
      const policy = found[0]!.policy;
      if (this.current && policyHash(policy) === this.current.hash)
        return { ok: true, hash: this.current.hash };
      try {
        const previous = this.current;
        const compiled = await compilePolicy(policy, {
          source: previous?.source ?? this.path,
          previous,
          ...(this.secretsDir ? { secretsDir: this.secretsDir } : {}),
          ...this.extra,
          ...this.extra,
        });
        this.current = compiled;
        previous?.stop();
        const ok = { ok: true, hash: compiled.hash };
        this.emit('reload', ok);
        return ok;
      } catch (err) {
        const error = (err as Error).message;
        this.emit('reload', { ok: false, error });
        return { ok: false, error };
      }
    };
    const next = (this.loading ?? Promise.resolve()).then(run, run);
    return next;
  }

  /** Polls the source; a ConfigMap symlink swap or an edit is picked up within `intervalMs`. */
  watch(intervalMs = 1000): void {
    this.timer = setInterval(() => {
      if (this.loading) return;
      if (fingerprint(this.path) !== this.lastFingerprint) void this.reload();
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.current?.stop();
  }
}
