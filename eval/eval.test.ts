/**
 * The detection promise, as `npm run eval` measures it: the default simulated week through a
 * real enforcer and a real Redis. The numbers are detection rates, not timings.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('npm run eval', () => {
  it('catches distributed stuffing and impossible-travel takeovers without bothering people', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'riskgate-eval-test-')), 'evaluation.md');
    const run = spawnSync('node_modules/.bin/node', ['eval/run.ts'], {
      encoding: 'utf8',
      env: { ...process.env, EVAL_OUT: out },
      timeout: 240_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    expect(summary.stuffingCaught).toBeGreaterThanOrEqual(0.99);
    expect(summary.takeoverCaught).toBeGreaterThanOrEqual(0.99);
    expect(summary.legitChallenged).toBeLessThanOrEqual(0.005);
    expect(summary.legitDenied).toBe(0);
    expect(summary.baselineLeakRatio).toBeGreaterThanOrEqual(10);
    expect(readFileSync(out, 'utf8')).toContain('| legitimate |');
  }, 300_000);
});
