/**
 * Header rules for a proxy (RFC 9110 §7.6.1): hop-by-hop fields, and any field the Connection
 * header names, stop here. Client-sent x-riskgate-* fields never reach the app: only the
 * enforcer speaks in that namespace. Apps do not all compare names the way HTTP does: CGI, WSGI,
 * Rack and nginx with `underscores_in_headers` read `X_Riskgate_Subject` as `x-riskgate-subject`,
 * so a name with `_` that reads as one the enforcer sets or trusts — or as another header of the
 * same request — is dropped too. Method and URL override headers are dropped unless the policy
 * allows them, so the app acts on the request the enforcer decided on.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Reply } from '../listener/reply.ts';

const HOP_BY_HOP = new Set([
  // Answered by this proxy (Node sends 100 Continue to the client); the app gets the body.
  'expect',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function connectionListed(value: string | string[] | undefined): Set<string> | undefined {
  // What nearly every app answers and many clients send: nothing listed beyond hop-by-hop itself.
  if (value === undefined || value === 'keep-alive' || value === 'close') return undefined;
  const joined = Array.isArray(value) ? value.join(',') : value;
  const names = new Set<string>();
  for (const token of joined.split(',')) {
    const name = token.trim().toLowerCase();
    if (name && name !== 'close' && name !== 'keep-alive') names.add(name);
  }
  return names.size > 0 ? names : undefined;
}

export interface HeaderRules {
  /** Header names (lower case) that never reach the app: override headers not allowed. */
  dropped: ReadonlySet<string>;
  /** Names the enforcer sets or reads to decide; an underscored look-alike is dropped. */
  guarded: ReadonlySet<string>;
}

/** Names every policy guards: what the enforcer writes, and what it or the app trusts for the client. */
export const ALWAYS_GUARDED = [
  'x-forwarded-for',
  'forwarded',
  'x-real-ip',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-client-ip',
  'authorization',
  'cookie',
  'host',
];

export const NO_HEADER_RULES: HeaderRules = { dropped: new Set(), guarded: new Set(ALWAYS_GUARDED) };

/** An underscored name that reads, with `_` as `-`, as a guarded name or another header sent. */
function isLookAlike(name: string, incoming: IncomingHttpHeaders, rules: HeaderRules): boolean {
  const dashed = name.replaceAll('_', '-');
  return (
    dashed.startsWith('x-riskgate-') ||
    rules.guarded.has(dashed) ||
    rules.dropped.has(dashed) ||
    incoming[dashed] !== undefined
  );
}

/** Headers to send upstream; `extra` (our own x-riskgate-* headers) is added last. */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  peer: string | undefined,
  extra: Record<string, string>,
  rules: HeaderRules = NO_HEADER_RULES,
): Record<string, string | string[]> {
  const listed = connectionListed(incoming['connection']);
  const out: Record<string, string | string[]> = {};
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined) continue;
    if (HOP_BY_HOP.has(name) || listed?.has(name)) continue;
    const first = name.charCodeAt(0);
    // HTTP/2 pseudo-headers (:method, :path, :authority, :scheme) are the request line, not fields.
    if (first === 58) continue;
    if (first === 120 && name.startsWith('x-riskgate-')) continue;
    if (rules.dropped.has(name)) continue;
    if (name.indexOf('_') !== -1 && isLookAlike(name, incoming, rules)) continue;
    out[name] = value;
  }
  // An HTTP/2 client names the host in :authority; an HTTP/1.1 app reads Host.
  if (out['host'] === undefined && typeof incoming[':authority'] === 'string')
    out['host'] = incoming[':authority'];
  if (peer !== undefined) {
    const prior = out['x-forwarded-for'];
    out['x-forwarded-for'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${peer}` : peer;
  }
  for (const name in extra) out[name] = extra[name]!;
  return out;
}

/** Response headers to pass back to the client. */
export function downstreamResponseHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const listed = connectionListed(headers['connection']);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || listed?.has(name)) continue;
    if (name.charCodeAt(0) === 58) continue;
    out[name] = value;
  }
  return out;
}

/** The app's status and headers, as the client gets them: hop-by-hop fields dropped, our request id added. */
export function replyWithAppHead(
  reply: Reply,
  status: number,
  headers: Record<string, string | string[] | undefined>,
  requestId: string,
): void {
  reply.code(status);
  reply.headers(downstreamResponseHeaders(headers));
  reply.header('x-riskgate-request-id', requestId);
}

/**
 * A value the enforcer writes into a header (a token's `sub`, say) as header-safe text: as it is
 * when it is printable ASCII without `%`, otherwise percent-encoded as UTF-8 (RFC 3986), so
 * `decodeURIComponent` gives the value back and nothing can break the header or the response.
 */
export function headerSafe(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) return encodeValue(value);
  }
  return value;
}

function encodeValue(value: string): string {
  let out = '';
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x20 && c <= 0x7e && c !== 0x25) out += ch;
    else
      for (const byte of Buffer.from(ch, 'utf8'))
        out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
