import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { difficultyFor, leadingZeroBits, ProofOfWork, solve } from './proof-of-work.ts';

describe('proof of work', () => {
  const pow = new ProofOfWork(Buffer.alloc(32, 7));

  it('accepts a solved challenge from the same client before expiry', () => {
    const { challenge, difficulty } = pow.issue('203.0.113.9', 8, 60_000, 1000);
    const answer = solve(challenge, difficulty)!;
    expect(pow.verify(answer, '203.0.113.9', 8, 2000)).toBe(true);
  });

  it('refuses another client, expiry, lower difficulty, tampering and garbage', () => {
    const { challenge } = pow.issue('203.0.113.9', 8, 60_000, 1000);
    const answer = solve(challenge, 8)!;
    expect(pow.verify(answer, '203.0.113.10', 8, 2000)).toBe(false);
    expect(pow.verify(answer, '203.0.113.9', 8, 70_000)).toBe(false);
    expect(pow.verify(answer, '203.0.113.9', 12, 2000)).toBe(false);
    expect(pow.verify(answer.replace('.8.', '.1.'), '203.0.113.9', 1, 2000)).toBe(false);
    let n = 0;
    let unsolved = `${challenge}:w0`;
    while (leadingZeroBits(createHash('sha256').update(unsolved).digest()) >= 8)
      unsolved = `${challenge}:w${++n}`;
    expect(pow.verify(unsolved, '203.0.113.9', 8, 2000)).toBe(false);
    for (const junk of ['', ':', 'v1.1.1.1.1:1', 'a'.repeat(600), '::::']) {
      expect(pow.verify(junk, '203.0.113.9', 1, 2000)).toBe(false);
    }
  });

  it('counts leading zero bits', () => {
    expect(leadingZeroBits(Buffer.from([0, 0, 0x10]))).toBe(19);
    expect(leadingZeroBits(Buffer.from([0x80]))).toBe(0);
  });

  it('grows difficulty with the score', () => {
    expect(difficultyFor(40, 40, 12, 20)).toBe(12);
    expect(difficultyFor(100, 40, 12, 20)).toBe(20);
    expect(difficultyFor(70, 40, 12, 20)).toBe(16);
  });
});
