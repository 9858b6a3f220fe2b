/**
 * Who is asking: a verified JWT subject, an API key, or anonymous. A credential that is
 * presented but does not verify is an error, never a silent fall back to anonymous.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ProblemCode } from '../actions/problem.ts';
import type { TokenResult } from '../identity/token-verifier.ts';
import type { CompiledPolicy } from '../policy/compiled-policy.ts';
import { ANONYMOUS, type Subject } from './request-context.ts';

export type Identified =
  | { subject: Subject; rejected?: undefined }
  | { rejected: ProblemCode; reason: string };

function bearerToken(value: string): string | undefined {
  if (value.length < 8 || value.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
  const token = value.slice(7).trim();
  return token.length > 0 ? token : undefined;
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
    if (token === undefined) {
      // Another scheme (Basic, …) in a header we own: not ours to judge unless it claims Bearer.
      if (value.slice(0, 7).toLowerCase() === 'bearer ') {
        return { rejected: 'RG_ERR_INVALID_TOKEN', reason: 'auth.token_malformed' };
      }
      continue;
    }
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
