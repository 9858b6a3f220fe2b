/**
 * Request-target normalisation, so that the enforcer and the app agree on which path was asked
 * for: an encoded dot segment, a doubled slash or an encoded slash must not walk a request
 * around a stricter route rule. The normalised path is what the app receives.
 */

export class RequestTargetError extends Error {
  readonly code = 'RG_ERR_BAD_REQUEST_TARGET';
}

export interface RequestTarget {
  /** Normalised path, percent-encoding of unreserved characters decoded, hex upper-cased. */
  path: string;
  /** Query string including the leading '?', or ''. */
  query: string;
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

function needsSlowPath(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    // % . / \ and anything outside printable ASCII
    if (c === 37 || c === 92 || c < 33 || c > 126) return true;
    if (c === 47 && i + 1 < path.length) {
      const n = path.charCodeAt(i + 1);
      if (n === 47 || n === 46) return true;
    }
  }
  return false;
}

function removeDotSegments(segments: string[]): string[] {
  const out: string[] = [];
  for (const s of segments) {
    if (s === '.') continue;
    if (s === '..') out.pop();
    else out.push(s);
  }
  return out;
}

function normalisePath(path: string): string {
  let decoded = '';
  for (let i = 0; i < path.length; i++) {
    const ch = path[i]!;
    const c = path.charCodeAt(i);
    if (c === 92) throw new RequestTargetError('backslash in path');
    if (c < 33 || c > 126) throw new RequestTargetError('invalid character in path');
    if (ch !== '%') {
      decoded += ch;
      continue;
    }
    const hex = path.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new RequestTargetError('invalid percent-encoding in path');
    const byte = Number.parseInt(hex, 16);
    // Encoded '/', '\' and NUL mean different paths to different servers: refuse them.
    if (byte === 0x2f || byte === 0x5c || byte === 0)
      throw new RequestTargetError('encoded slash or NUL in path');
    const char = String.fromCharCode(byte);
    decoded += UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
    i += 2;
  }
  const trailing = decoded.length > 1 && decoded.endsWith('/');
  const segments = removeDotSegments(decoded.split('/').filter((s, i) => i === 0 || s.length > 0));
  let out = segments.join('/');
  if (!out.startsWith('/')) out = `/${out}`;
  if (trailing && out !== '/') out += '/';
  return out;
}

/** Parses origin-form or absolute-form targets; throws RequestTargetError for anything else. */
export function parseRequestTarget(url: string): RequestTarget {
  let target = url;
  if (target.charCodeAt(0) !== 47) {
    const match = /^https?:\/\/[^/?#]*/i.exec(target);
    if (!match) throw new RequestTargetError('request target must be a path');
    target = target.slice(match[0].length) || '/';
    if (target.charCodeAt(0) !== 47) target = `/${target}`;
  }
  const q = target.indexOf('?');
  let path = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? '' : target.slice(q);
  const hash = path.indexOf('#');
  if (hash !== -1) throw new RequestTargetError('fragment in request target');
  if (needsSlowPath(path)) path = normalisePath(path);
  return { path, query };
}
