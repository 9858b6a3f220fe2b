/**
 * Request-target normalisation: the enforcer routes on the strictest reading of the path that an
 * app server could take, and forwards the path exactly as it matched it. Servlet containers
 * (Tomcat, Jetty, Spring) drop `;` path parameters from each segment, frameworks resolve dot
 * segments, decode once, match case-insensitively, accept a trailing slash or a `.json` suffix,
 * and Windows-style servers trim trailing dots and spaces. Whatever no reading can settle — an
 * encoded slash, backslash, NUL or `;`, a double encoding, invalid UTF-8 — is refused.
 * The rules, with a table of inputs and what the app receives, are in docs/security.md.
 */

export class RequestTargetError extends Error {
  readonly code = 'RG_ERR_BAD_REQUEST_TARGET';
}

export type PathParameters = 'strip' | 'refuse';

export interface RequestTarget {
  /**
   * Normalised path: `;` parameters removed, dot and empty segments resolved, percent-encoding
   * of unreserved characters decoded and the rest upper-cased. What the app receives.
   */
  path: string;
  /** Query string including the leading '?', or ''. */
  query: string;
  /**
   * Other readings of the same path an app may also route on (trailing dots and spaces trimmed,
   * a `.ext` suffix of the last segment dropped); undefined when there are none. The route is
   * the strictest that any reading matches.
   */
  alternates: string[] | undefined;
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;
const HEX = /^[0-9A-Fa-f]{2}$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Characters that send a path down the slow path: % ; \ non-printable or non-ASCII, // and /. */
function needsSlowPath(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 37 || c === 59 || c === 92 || c < 33 || c > 126) return true;
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

/** Decodes once; unreserved characters come out plain, everything else stays encoded. */
function decodeSegment(segment: string): string {
  let decoded = '';
  let bytes: number[] | undefined;
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i]!;
    const c = segment.charCodeAt(i);
    if (c === 92) throw new RequestTargetError('backslash in path');
    if (c < 33 || c > 126) throw new RequestTargetError('invalid character in path');
    if (ch !== '%') {
      decoded += ch;
      continue;
    }
    const hex = segment.slice(i + 1, i + 3);
    if (!HEX.test(hex)) throw new RequestTargetError('invalid percent-encoding in path');
    const byte = Number.parseInt(hex, 16);
    // Encoded '/', '\', ';' and NUL mean different paths to different servers.
    if (byte === 0x2f || byte === 0x5c || byte === 0x3b || byte === 0) {
      throw new RequestTargetError('encoded slash, backslash, semicolon or NUL in path');
    }
    // %25 before hex (or before another escape, %25%32%66) is a second layer of encoding
    // that a decode-twice server would read.
    const next = segment.charCodeAt(i + 3);
    if (byte === 0x25 && (next === 37 || HEX.test(segment.slice(i + 3, i + 5)))) {
      throw new RequestTargetError('double percent-encoding in path');
    }
    if (byte >= 0x80) {
      bytes ??= [];
      bytes.push(byte);
    }
    const char = String.fromCharCode(byte);
    decoded += UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
    i += 2;
  }
  // Overlong and other invalid UTF-8 (%C0%AE for '.') is read as '.' by lenient decoders.
  if (bytes !== undefined) {
    try {
      strictUtf8.decode(Uint8Array.from(bytes));
    } catch {
      throw new RequestTargetError('percent-encoded bytes are not valid UTF-8');
    }
  }
  return decoded;
}

function normalisePath(path: string, parameters: PathParameters): string {
  const segments = path.split('/').map((segment) => {
    const semicolon = segment.indexOf(';');
    if (semicolon === -1) return decodeSegment(segment);
    if (parameters === 'refuse') throw new RequestTargetError('path parameters (;) in path');
    return decodeSegment(segment.slice(0, semicolon));
  });
  const trailing = segments.length > 1 && segments[segments.length - 1] === '';
  const resolved = removeDotSegments(segments.filter((s, i) => i === 0 || s.length > 0));
  let out = resolved.join('/');
  if (!out.startsWith('/')) out = `/${out}`;
  if (trailing && out !== '/') out += '/';
  return out;
}

/** Trailing dots, spaces and tabs dropped from each segment, as Windows-style servers read it. */
function trimmedReading(path: string): string | undefined {
  if (!/(\.|%20|%09)(\/|$)/.test(path)) return undefined;
  const segments = path.split('/').map((s) => {
    const trimmed = s.replace(/(\.|%20|%09)+$/, '');
    return trimmed.length > 0 ? trimmed : s;
  });
  const trimmed = segments.join('/');
  return trimmed === path ? undefined : trimmed;
}

/** The last segment without its `.ext` suffix, as suffix-matching frameworks read it. */
function withoutExtension(path: string): string | undefined {
  const end = path.endsWith('/') ? path.length - 1 : path.length;
  const start = path.lastIndexOf('/', end - 1) + 1;
  const dot = path.indexOf('.', start);
  if (dot <= start || dot >= end) return undefined;
  return path.slice(0, dot) + path.slice(end);
}

function alternatesOf(path: string): string[] | undefined {
  if (path.indexOf('.') === -1 && path.indexOf('%') === -1) return undefined;
  const readings = new Set<string>();
  const trimmed = trimmedReading(path);
  for (const reading of [path, trimmed]) {
    if (reading === undefined) continue;
    if (reading !== path) readings.add(reading);
    const bare = withoutExtension(reading);
    if (bare !== undefined && bare !== path) readings.add(bare);
  }
  return readings.size > 0 ? [...readings] : undefined;
}

/** Parses origin-form or absolute-form targets; throws RequestTargetError for anything else. */
export function parseRequestTarget(url: string, parameters: PathParameters = 'strip'): RequestTarget {
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
  if (path.indexOf('#') !== -1) throw new RequestTargetError('fragment in request target');
  if (needsSlowPath(path)) path = normalisePath(path, parameters);
  return { path, query, alternates: alternatesOf(path) };
}
