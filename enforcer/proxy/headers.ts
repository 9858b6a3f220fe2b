/**
 * Header rules for a proxy (RFC 9110 §7.6.1): hop-by-hop fields, and any field the Connection
 * header names, stop here. Client-sent x-riskgate-* fields never reach the app: only the
 * enforcer speaks in that namespace.
 */
import type { IncomingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set([
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
  if (value === undefined) return undefined;
  const joined = Array.isArray(value) ? value.join(',') : value;
  const names = new Set<string>();
  for (const token of joined.split(',')) {
    const name = token.trim().toLowerCase();
    if (name && name !== 'close' && name !== 'keep-alive') names.add(name);
  }
  return names.size > 0 ? names : undefined;
}

/** Headers to send upstream; `extra` (our own x-riskgate-* headers) is added last. */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  peer: string | undefined,
  extra: Record<string, string>,
): Record<string, string | string[]> {
  const listed = connectionListed(incoming['connection']);
  const out: Record<string, string | string[]> = {};
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined) continue;
    if (HOP_BY_HOP.has(name) || listed?.has(name)) continue;
    if (name.charCodeAt(0) === 120 && name.startsWith('x-riskgate-')) continue;
    out[name] = value;
  }
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
    out[name] = value;
  }
  return out;
}
