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
/** The challenge page sets the answer here; the enforcer reads it like the header. */
export const POW_COOKIE = 'rg_pow';
/** What a browser that solved the page holds for a while instead of solving again. */
export const CLEARANCE_COOKIE = 'rg_clearance';
const CLEARANCE_VERSION = 'c1';
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

  /** `payload.mac`, the MAC bound to `binding`. */
  sign(payload: string, binding: string): string {
    return `${payload}.${this.mac(payload, binding)}`;
  }

  /** Whether `mac` is this key's MAC of `payload` for `binding`. */
  checks(payload: string, binding: string, mac: string): boolean {
    const expected = Buffer.from(this.mac(payload, binding));
    const given = Buffer.from(mac);
    return expected.length === given.length && timingSafeEqual(expected, given);
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

/**
 * A browser's clearance: after it solved a challenge page, signed proof that this client (its
 * address or IPv6 prefix) paid `difficulty` bits, valid until `expiresAt`. It spares a person a
 * page per navigation; a bot farm pays again from each new address and when the difficulty rises.
 */
export function issueClearance(
  pow: ProofOfWork,
  client: string,
  difficulty: number,
  ttlMs: number,
  now = Date.now(),
) {
  return pow.sign(`${CLEARANCE_VERSION}.${now + ttlMs}.${difficulty}`, client);
}

/** Whether `value` is an unexpired clearance for this client of at least `minDifficulty`. */
export function hasClearance(
  pow: ProofOfWork,
  value: string,
  client: string,
  minDifficulty: number,
  now = Date.now(),
) {
  if (value.length > 200) return false;
  const parts = value.split('.');
  if (parts.length !== 4 || parts[0] !== CLEARANCE_VERSION) return false;
  if (!pow.checks(`${parts[0]}.${parts[1]}.${parts[2]}`, client, parts[3]!)) return false;
  return Number(parts[1]) >= now && Number(parts[2]) >= minDifficulty;
}

/** A cookie's value from a Cookie header (or HTTP/2's several), without parsing the rest. */
export function cookieValue(header: string | string[] | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header.join('; ') : header;
  const at = text.indexOf(`${name}=`);
  if (at === -1 || (at > 0 && text[at - 1] !== ' ' && text[at - 1] !== ';')) return undefined;
  const end = text.indexOf(';', at);
  return text.slice(at + name.length + 1, end === -1 ? undefined : end).trim();
}

/** What a client does: finds a solution. Used by tests, the demo and the docs' example. */
export function solve(challenge: string, difficulty: number, maxTries = 1 << 26): string | undefined {
  for (let i = 0; i < maxTries; i++) {
    const answer = `${challenge}:${i.toString(36)}`;
    if (leadingZeroBits(createHash('sha256').update(answer).digest()) >= difficulty) return answer;
  }
  return undefined;
}

/** How far back the challenges a client was given count towards its next one. */
export const ESCALATION_WINDOW_MS = 10 * 60_000;

/**
 * The difficulty of a client's next challenge: its score's, plus a bit for each doubling of the
 * challenges it was given in the window (the first costs nothing extra), up to 8 bits over the
 * policy's maximum and never past 28 (minutes of a phone's time).
 */
export function escalatedDifficulty(base: number, issued: number, max: number): number {
  const extra = issued > 1 ? Math.floor(Math.log2(issued)) : 0;
  return Math.min(base + extra, Math.max(base, Math.min(28, max + 8)));
}

/** Difficulty grows with the score from min (at the challenge threshold) to max (at 100). */
export function difficultyFor(score: number, threshold: number, min: number, max: number): number {
  if (score <= threshold || threshold >= 100) return min;
  return Math.round(min + ((score - threshold) / (100 - threshold)) * (max - min));
}
