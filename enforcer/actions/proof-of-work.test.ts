import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { difficultyFor, leadingZeroBits, ProofOfWork, solve } from './proof-of-work.ts';

describe('proof of work', () => {
  const pow = new ProofOfWork(Buffer.alloc(32, 7));

  const login = 'login\u0000203.0.113.9';

  it('accepts a solved challenge for the same route and client before expiry, with its nonce', () => {
    const { challenge, difficulty } = pow.issue(login, 8, 60_000, 1000);
    const answer = solve(challenge, difficulty)!;
    const proof = pow.verify(answer, login, 8, 2000);
    expect(proof?.expiresAt).toBe(61_000);
    expect(proof?.nonce).toBe(challenge.split('.')[3]);
  });

  it('refuses another client, another route, expiry, lower difficulty, tampering and garbage', () => {
    const { challenge } = pow.issue(login, 8, 60_000, 1000);
    const answer = solve(challenge, 8)!;
    expect(pow.verify(answer, 'login\u0000203.0.113.10', 8, 2000)).toBeUndefined();
    expect(pow.verify(answer, 'transfer\u0000203.0.113.9', 8, 2000)).toBeUndefined();
    expect(pow.verify(answer, login, 8, 70_000)).toBeUndefined();
    expect(pow.verify(answer, login, 12, 2000)).toBeUndefined();
    expect(pow.verify(answer.replace('.8.', '.1.'), login, 1, 2000)).toBeUndefined();
    let n = 0;
    let unsolved = `${challenge}:w0`;
    while (leadingZeroBits(createHash('sha256').update(unsolved).digest()) >= 8)
      unsolved = `${challenge}:w${++n}`;
    expect(pow.verify(unsolved, login, 8, 2000)).toBeUndefined();
    for (const junk of ['', ':', 'v2.1.1.1.1:1', 'a'.repeat(600), '::::']) {
      expect(pow.verify(junk, login, 1, 2000)).toBeUndefined();
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
