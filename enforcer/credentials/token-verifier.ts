/**
 * Verifies bearer JWTs against the policy's issuers with jose, and caches the outcome so a
 * repeated token costs a map lookup. Only asymmetric algorithms from the policy are accepted,
 * so `alg: none` and HMAC-with-a-public-key confusion fail before any key is used; jku, x5u
 * and embedded keys are never followed.
 */
import { decodeJwt, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { BoundedCache } from '../state/bounded-cache.ts';

export interface TokenIssuer {
  name: string;
  issuer: string;
  /** Accepted `aud` values; empty means the token type has no audience (posture tokens). */
  audiences: string[];
  algorithms: string[];
  clockToleranceSeconds: number;
  scopeClaim: string;
  keys: JWTVerifyGetKey;
}

export interface VerifiedToken {
  ok: true;
  issuer: string;
  subject: string;
  claims: JWTPayload;
  scopes: ReadonlySet<string>;
  /** Epoch ms after which the cached result must not be used. */
  validUntil: number;
}

export interface RejectedToken {
  ok: false;
  /** Stable reason code, e.g. auth.token_expired */
  reason: string;
}

export type TokenResult = VerifiedToken | RejectedToken;

/** Tokens larger than this are refused unread: they cost memory and CPU and no IdP needs them. */
export const MAX_TOKEN_BYTES = 8192;
const NEGATIVE_TTL_MS = 10_000;
const OVERSIZED: RejectedToken = Object.freeze({ ok: false, reason: 'auth.token_oversized' });
const MAX_POSITIVE_TTL_MS = 5 * 60_000;

function reasonOf(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'auth.token_expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf' || err.claim === 'iat') return 'auth.token_not_yet_valid';
    if (err.claim === 'iss') return 'auth.token_issuer';
    if (err.claim === 'aud') return 'auth.token_audience';
    return 'auth.token_claims';
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported)
    return 'auth.token_algorithm';
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys)
    return 'auth.token_unknown_key';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'auth.token_signature';
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JOSEError) {
    if ((err as errors.JOSEError).code === 'ERR_JWKS_TIMEOUT') return 'auth.keys_unavailable';
    return 'auth.token_malformed';
  }
  return 'auth.keys_unavailable';
}

function cacheKey(token: string): string {
  return token.slice(token.lastIndexOf('.') + 1);
}

export function scopesOf(claims: JWTPayload, scopeClaim: string): Set<string> {
  const raw = claims[scopeClaim] ?? (scopeClaim === 'scope' ? claims['scp'] : undefined);
  if (typeof raw === 'string') return new Set(raw.split(' ').filter(Boolean));
  if (Array.isArray(raw)) return new Set(raw.filter((s): s is string => typeof s === 'string'));
  return new Set();
}

export class TokenVerifier {
  private readonly byIssuer = new Map<string, TokenIssuer>();
  /**
   * Outcomes by the token's last segment (its signature), each entry holding the whole token.
   * The header value is a new string on every request, so V8 hashes a cache key afresh each
   * time: ~86 characters of an ES256 signature instead of a whole JWT (~700). A hit is still
   * exact — the whole token is compared — and tokens that share a last segment only evict each
   * other.
   */
  private readonly cache = new BoundedCache<string, { token: string; result: TokenResult }>({
    max: 20_000,
    // Tokens are the client's to size: at most 16 MB of them (a ~700-byte JWT fits 20,000).
    maxBytes: 16 * 1024 * 1024,
    sizeOf: (entry) => entry.token.length + 256,
  });

  constructor(issuers: readonly TokenIssuer[]) {
    for (const issuer of issuers) this.byIssuer.set(issuer.issuer, issuer);
  }

  get configured(): boolean {
    return this.byIssuer.size > 0;
  }

  /** The cached outcome for this token, if still valid: the synchronous fast path. */
  cached(token: string, now = Date.now()): TokenResult | undefined {
    if (token.length > MAX_TOKEN_BYTES) return OVERSIZED;
    const key = cacheKey(token);
    const hit = this.cache.get(key);
    if (hit === undefined || hit.token !== token) return undefined;
    if (hit.result.ok && hit.result.validUntil <= now) {
      this.cache.delete(key);
      return undefined;
    }
    return hit.result;
  }

  async verify(token: string): Promise<TokenResult> {
    // Refused unread and never cached: an oversized token must not cost memory.
    if (token.length > MAX_TOKEN_BYTES) return OVERSIZED;
    const hit = this.cached(token);
    if (hit) return hit;
    const result = await this.verifyUncached(token);
    // A positive result lives until its validUntil, checked on read; a negative one 10 s.
    this.cache.set(cacheKey(token), { token, result }, result.ok ? undefined : NEGATIVE_TTL_MS);
    return result;
  }

  private async verifyUncached(token: string): Promise<TokenResult> {
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      return { ok: false, reason: 'auth.token_malformed' };
    }
    const issuer = typeof unverified.iss === 'string' ? this.byIssuer.get(unverified.iss) : undefined;
    if (!issuer) return { ok: false, reason: 'auth.token_issuer' };
    try {
      const { payload } = await jwtVerify(token, issuer.keys, {
        issuer: issuer.issuer,
        ...(issuer.audiences.length > 0 ? { audience: issuer.audiences } : {}),
        algorithms: issuer.algorithms,
        clockTolerance: issuer.clockToleranceSeconds,
        requiredClaims: issuer.audiences.length > 0 ? ['exp', 'sub'] : ['exp'],
      });
      const now = Date.now();
      const expMs = (payload.exp ?? 0) * 1000 + issuer.clockToleranceSeconds * 1000;
      return {
        ok: true,
        issuer: issuer.name,
        subject: String(payload.sub ?? ''),
        claims: payload,
        scopes: scopesOf(payload, issuer.scopeClaim),
        validUntil: Math.min(expMs, now + MAX_POSITIVE_TTL_MS),
      };
    } catch (err) {
      if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'sub') {
        return { ok: false, reason: 'auth.token_claims' };
      }
      return { ok: false, reason: reasonOf(err) };
    }
  }
}
