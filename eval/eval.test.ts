/**
 * The detection promise, as `npm run eval` measures it on the shipped quickstart policy: a
 * simulated week through a real enforcer and a real Redis. The numbers are detection rates,
 * not timings.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('npm run eval', () => {
  it('on the shipped quickstart: catches stuffing, sprays, takeovers and rotation, and never denies an owner', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'riskgate-eval-test-')), 'evaluation.md');
    const run = spawnSync('node_modules/.bin/node', ['eval/run.ts'], {
      encoding: 'utf8',
      env: { ...process.env, EVAL_OUT: out },
      timeout: 280_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    expect(summary).toMatchObject({ legitDenied: 0, ownerDeniedDuringLockoutAttack: 0, neighboursDenied: 0 });
    expect(summary.legitChallenged).toBeLessThanOrEqual(0.01);
    expect(summary.stuffingCaught).toBeGreaterThanOrEqual(0.99);
    expect(summary.sprayCaught).toBeGreaterThanOrEqual(0.9);
    expect(summary.takeoverCaught).toBeGreaterThanOrEqual(0.99);
    expect(summary.rotationCaught).toBeGreaterThanOrEqual(0.9);
    expect(summary.baselineLeakRatio).toBeGreaterThanOrEqual(10);
    // Every challenge a person met, their client completed; the attackers met challenges too.
    expect(summary.peopleChallengesSolved).toBe(summary.peopleChallenges);
    expect(summary.attackChallenges).toBeGreaterThan(0);
    expect(summary.attackWorkHashes).toBeGreaterThan(0);
    const doc = readFileSync(out, 'utf8');
    // The tuned policy challenges members behind a VPN exit on its proxy feed: friction, completed.
    const tuned = JSON.parse(doc.match(/^\{"stuffingCaught".*$/gm)![1]!);
    expect(tuned.peopleChallenges).toBeGreaterThan(0);
    expect(tuned.peopleChallengesSolved).toBe(tuned.peopleChallenges);
    expect(tuned.legitDenied).toBe(0);
    expect(doc).toContain('`examples/quickstart.yaml`');
    expect(doc).toContain('| legitimate: owners under a lockout attack |');
  }, 300_000);
});
