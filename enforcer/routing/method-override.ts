/**
 * The `_method` parameter (Rails, Laravel, Symfony) makes an app act on another method than the
 * one the enforcer decided on; unless the policy allows it, it is removed from the query the app
 * receives. Override headers are dropped with the other headers (proxy/headers.ts).
 */

function isMethodKey(part: string): boolean {
  const eq = part.indexOf('=');
  const key = (eq === -1 ? part : part.slice(0, eq)).replace(/\+/g, ' ');
  let decoded = key;
  try {
    decoded = decodeURIComponent(key);
  } catch {}
  return decoded.trim().toLowerCase() === '_method';
}

/** The query (with its leading '?') without `_method` parameters in any case or encoding. */
export function withoutMethodParameter(query: string): string {
  if (query.length < 8 || !/_method|%5f/i.test(query)) return query;
  const parts = query.slice(1).split('&');
  const kept = parts.filter((p) => !isMethodKey(p));
  if (kept.length === parts.length) return query;
  return kept.length > 0 ? `?${kept.join('&')}` : '';
}
