/**
 * Proof of work for anonymous clients: the challenge is HMAC-signed, bound to what it was asked
 * for — the route and the client (its IPv4 address or IPv6 prefix) — with an expiry and its
 * difficulty (leading zero bits of SHA-256(challenge ":" solution)). Solving costs the client
 * ~2^difficulty hashes; checking costs us one HMAC and one hash. A solution is good once: the
 * request path claims its nonce in shared state (evaluate.ts), so neither a replay nor a sibling
 * accepts it again. Enforcers of one service share the key (RISKGATE_POW_KEY_FILE) so a challenge
 * issued at one pod is accepted at another.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const POW_HEADER = 'x-riskgate-pow';
const VERSION = 'v2';

export interface Proof {
  /** The challenge's random part: spent once claimed. */
  nonce: string;
  expiresAt: number;
}

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

  private mac(payload: string, binding: string): string {
    return createHmac('sha256', this.key).update(`${payload}|${binding}`).digest('base64url');
  }

  /** `binding`: what the challenge is for — the route and the client (evaluate.ts powBinding). */
  issue(binding: string, difficulty: number, ttlMs: number, now = Date.now()): PowChallenge {
    const payload = `${VERSION}.${now + ttlMs}.${difficulty}.${randomBytes(12).toString('base64url')}`;
    return { challenge: `${payload}.${this.mac(payload, binding)}`, difficulty };
  }

  /**
   * The proof in `answer` ("challenge:solution") when it is a valid, unexpired solve of at least
   * `minDifficulty` for this binding: its nonce (to claim once) and when it expires.
   */
  verify(answer: string, binding: string, minDifficulty: number, now = Date.now()): Proof | undefined {
    if (answer.length > 512) return undefined;
    const colon = answer.lastIndexOf(':');
    if (colon === -1) return undefined;
    const challenge = answer.slice(0, colon);
    const parts = challenge.split('.');
    if (parts.length !== 5 || parts[0] !== VERSION) return undefined;
    const [, exp, diff, nonce, mac] = parts as [string, string, string, string, string];
    const payload = challenge.slice(0, challenge.length - mac.length - 1);
    const expected = Buffer.from(this.mac(payload, binding));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    const expiresAt = Number(exp);
    if (expiresAt < now) return undefined;
    const difficulty = Number(diff);
    if (!(difficulty >= minDifficulty)) return undefined;
    if (leadingZeroBits(createHash('sha256').update(answer).digest()) < difficulty) return undefined;
    return { nonce, expiresAt };
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
