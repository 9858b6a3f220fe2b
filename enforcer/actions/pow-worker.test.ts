import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { POW_WORKER_SOURCE } from './pow-worker.ts';
import { leadingZeroBits, ProofOfWork } from './proof-of-work.ts';

interface Solver {
  sha256(bytes: Uint8Array): Uint8Array;
  solve(
    challenge: string,
    difficulty: number,
    progress: (n: number) => void,
  ): { answer: string; tries: number };
}

const solver = (): Solver => {
  const context: Record<string, unknown> = { TextEncoder };
  runInNewContext(POW_WORKER_SOURCE, context);
  return context as unknown as Solver;
};

describe('the browser proof-of-work solver', () => {
  it('computes SHA-256 as node:crypto does, at every padding boundary and for random inputs', () => {
    const { sha256 } = solver();
    const inputs = [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000].map((n) => Buffer.alloc(n, 0x61));
    for (let i = 0; i < 200; i++) inputs.push(randomBytes(i * 3));
    for (const input of inputs) {
      expect(Buffer.from(sha256(new Uint8Array(input))).toString('hex')).toBe(
        createHash('sha256').update(input).digest('hex'),
      );
    }
  });

  it('finds answers the enforcer accepts', () => {
    const pow = new ProofOfWork();
    const { challenge } = pow.issue('route\u0000203.0.113.9', 12, 60_000);
    const { answer } = solver().solve(challenge, 12, () => {});
    expect(leadingZeroBits(createHash('sha256').update(answer).digest())).toBeGreaterThanOrEqual(12);
    expect(pow.verify(answer, 'route\u0000203.0.113.9', 12)).toBeDefined();
  });

  it('is published unchanged as clients/js/pow-worker.js', () => {
    expect(readFileSync('clients/js/pow-worker.js', 'utf8')).toBe(POW_WORKER_SOURCE);
  });
});
