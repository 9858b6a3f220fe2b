/**
 * Stateless proof-of-work for anonymous clients: the challenge is HMAC-signed, bound to the
 * client IP and an expiry, and carries its difficulty (leading zero bits of
 * SHA-256(challenge ":" solution)). Solving costs the client ~2^difficulty hashes; checking
 * costs us one HMAC and one hash, and no memory. Enforcers of one service share the key
 * (RISKGATE_POW_KEY) so a challenge solved at one pod is accepted by its siblings.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const POW_HEADER = 'x-riskgate-pow';
const VERSION = 'v1';

export interface PowChallenge {
  challenge: string;
  difficulty: number;
}

export function leadingZeroBits(digest: Buffer): number {
  let bits = 0;
  for (const byte of digest) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

export class ProofOfWork {
  private readonly key: Buffer;

  constructor(key: Buffer = randomBytes(32)) {
    this.key = key;
  }

  private mac(payload: string, clientIp: string): string {
    return createHmac('sha256', this.key).update(`${payload}|${clientIp}`).digest('base64url');
  }

  issue(clientIp: string, difficulty: number, ttlMs: number, now = Date.now()): PowChallenge {
    const payload = `${VERSION}.${now + ttlMs}.${difficulty}.${randomBytes(9).toString('base64url')}`;
    return { challenge: `${payload}.${this.mac(payload, clientIp)}`, difficulty };
  }

  /** True when `answer` ("challenge:solution") is a valid, unexpired solve of at least `minDifficulty`. */
  verify(answer: string, clientIp: string, minDifficulty: number, now = Date.now()): boolean {
    if (answer.length > 512) return false;
    const colon = answer.lastIndexOf(':');
    if (colon === -1) return false;
    const challenge = answer.slice(0, colon);
    const parts = challenge.split('.');
    if (parts.length !== 5 || parts[0] !== VERSION) return false;
    const [, exp, diff, , mac] = parts as [string, string, string, string, string];
    const payload = challenge.slice(0, challenge.length - mac.length - 1);
    const expected = Buffer.from(this.mac(payload, clientIp));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return false;
    if (Number(exp) < now) return false;
    const difficulty = Number(diff);
    if (!(difficulty >= minDifficulty)) return false;
    return leadingZeroBits(createHash('sha256').update(answer).digest()) >= difficulty;
  }
}

/** What a client does: finds a solution. Used by tests, the demo and the docs' example. */
export function solve(challenge: string, difficulty: number, maxTries = 1 << 26): string | undefined {
  for (let i = 0; i < maxTries; i++) {
    const answer = `${challenge}:${i.toString(36)}`;
    if (leadingZeroBits(createHash('sha256').update(answer).digest()) >= difficulty) return answer;
  }
  return undefined;
}

/** Difficulty grows with the score from min (at the challenge threshold) to max (at 100). */
export function difficultyFor(score: number, threshold: number, min: number, max: number): number {
  if (score <= threshold || threshold >= 100) return min;
  return Math.round(min + ((score - threshold) / (100 - threshold)) * (max - min));
}
