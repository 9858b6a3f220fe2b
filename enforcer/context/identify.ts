/**
 * Who is asking: a verified JWT subject, an API key, or anonymous. A credential that is
 * presented but does not verify is an error, never a silent fall back to anonymous.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ProblemCode } from '../actions/problem.ts';
import type { TokenResult } from '../credentials/token-verifier.ts';
import type { CompiledPolicy } from '../policy/compiled-policy.ts';
import { ANONYMOUS, type Subject } from './request-context.ts';

export type Identified =
  | { subject: Subject; rejected?: undefined }
  | { rejected: ProblemCode; reason: string };

const isBlank = (c: number) => c === 32 || c === 9;

/**
 * Reads an Authorization-style value (RFC 9110 §11.4, RFC 6750 §2.1): the scheme compared
 * without case, one or more spaces or tabs, then the credential. `undefined`: another scheme.
 * `null`: it claims Bearer — `Bearer`, `BEARER`, `Bearer<TAB>`, `BearerX` — but holds no
 * credential, which is an invalid token, never anonymous. The token verifier judges the rest.
 */
export function bearerToken(value: string): string | null | undefined {
  if (value.length < 6 || value.slice(0, 6).toLowerCase() !== 'bearer') return undefined;
  if (value.length === 6 || !isBlank(value.charCodeAt(6))) return null;
  let start = 7;
  while (start < value.length && isBlank(value.charCodeAt(start))) start++;
  let end = value.length;
  while (end > start && isBlank(value.charCodeAt(end - 1))) end--;
  return end > start ? value.slice(start, end) : null;
}

function fromToken(result: TokenResult): Identified {
  if (!result.ok) return { rejected: 'RG_ERR_INVALID_TOKEN', reason: result.reason };
  return { subject: { kind: 'token', id: result.subject, scopes: result.scopes, claims: result.claims } };
}

/** Synchronous when the token is cached or absent; a promise only on a cache miss. */
export function identify(
  policy: CompiledPolicy,
  headers: IncomingHttpHeaders,
): Identified | Promise<Identified> {
  for (const name of policy.tokenHeaders) {
    const value = headers[name];
    if (typeof value !== 'string') continue;
    const token = bearerToken(value);
    // Another scheme (Basic, …) in a header we own is not ours to judge.
    if (token === undefined) continue;
    if (token === null) return { rejected: 'RG_ERR_INVALID_TOKEN', reason: 'auth.token_malformed' };
    const cached = policy.tokens.cached(token);
    if (cached) return fromToken(cached);
    return policy.tokens.verify(token).then(fromToken);
  }
  if (policy.apiKeys) {
    const value = headers[policy.apiKeys.header];
    if (typeof value === 'string') {
      const match = policy.apiKeys.store.match(value);
      if (!match) return { rejected: 'RG_ERR_INVALID_API_KEY', reason: 'auth.api_key_unknown' };
      return {
        subject: { kind: 'apikey', id: `apikey:${match.id}`, scopes: match.scopes, claims: undefined },
      };
    }
  }
  return { subject: ANONYMOUS };
}

/** Route rules: required scopes and claims. Returns the missing requirement's kind, if any. */
export function unmetRequirement(
  subject: Subject,
  scopes: readonly string[],
  claims: readonly { claim: string; values: readonly string[] }[],
): boolean {
  for (const s of scopes) if (!subject.scopes.has(s)) return true;
  for (const c of claims) {
    const value = subject.claims?.[c.claim];
    const values = Array.isArray(value) ? value.map(String) : value === undefined ? [] : [String(value)];
    if (!values.some((v) => c.values.includes(v))) return true;
  }
  return false;
}
