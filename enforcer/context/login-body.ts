/**
 * A login body as the app will read it: its content coding undone (gzip, deflate, br — within
 * the login body limit, so a small bomb cannot grow), its media type read exactly (not a
 * substring: `application/x-www-form-urlencoded;x=json` is a form), its charset or byte-order
 * mark honoured, and its fields listed with every occurrence — so that a duplicate, a
 * case-variant or an array is seen rather than guessed at. What cannot be read is an error with
 * a stable code, never "no account".
 */
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import type { Busboy, BusboyConstructor } from '@fastify/busboy';

export class LoginBodyError extends Error {
  readonly code: 'RG_ERR_LOGIN_BODY' | 'RG_ERR_UNSUPPORTED_MEDIA_TYPE' | 'RG_ERR_BODY_TOO_LARGE';
  /** The reason code of the refusal (enforcer/reasons.ts). */
  readonly reason: string;

  constructor(code: LoginBodyError['code'], reason: string, message: string) {
    super(message);
    this.code = code;
    this.reason = reason;
  }
}

const unreadable = (message: string) =>
  new LoginBodyError('RG_ERR_LOGIN_BODY', 'request.login_body_unreadable', message);
const unsupported = (message: string) =>
  new LoginBodyError('RG_ERR_UNSUPPORTED_MEDIA_TYPE', 'request.login_body_unsupported', message);

/** One field as it occurs in the body: its name as written and its value (a file is not a value). */
export interface Field {
  name: string;
  value: string | { file: true } | { structured: true };
}

/** Undoes the content codings, last applied first, keeping the result within `limit` bytes. */
export function decodeContent(body: Buffer, encoding: string | undefined, limit: number): Buffer {
  if (encoding === undefined) return body;
  const codings = encoding
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  let out = body;
  for (const coding of codings.reverse()) {
    const options = { maxOutputLength: limit };
    try {
      if (coding === 'gzip' || coding === 'x-gzip') out = gunzipSync(out, options);
      else if (coding === 'br') out = brotliDecompressSync(out, options);
      else if (coding === 'deflate') {
        // RFC 9110 says zlib-wrapped; some clients send raw deflate, and apps accept both.
        try {
          out = inflateSync(out, options);
        } catch (err) {
          if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw err;
          out = inflateRawSync(out, options);
        }
      } else throw unsupported(`content coding ${coding} is not read on login routes`);
    } catch (err) {
      if (err instanceof LoginBodyError) throw err;
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new LoginBodyError(
          'RG_ERR_BODY_TOO_LARGE',
          'request.body_too_large',
          'decoded login body too large',
        );
      }
      throw unreadable(`${coding} body does not decode`);
    }
  }
  return out;
}

export interface MediaType {
  /** type/subtype, lower case. */
  essence: string;
  parameters: Map<string, string>;
}

/** RFC 9110 §8.3.1: `type/subtype *( OWS ";" OWS parameter )`, quoted values unquoted. */
export function parseMediaType(header: string): MediaType | undefined {
  const parts = header.split(';');
  const essence = parts[0]!.trim().toLowerCase();
  if (!/^[a-z0-9!#$%&'*+.^_`|~-]+\/[a-z0-9!#$%&'*+.^_`|~-]+$/.test(essence)) return undefined;
  const parameters = new Map<string, string>();
  for (const p of parts.slice(1)) {
    const eq = p.indexOf('=');
    if (eq === -1) continue;
    const name = p.slice(0, eq).trim().toLowerCase();
    let value = p.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2)
      value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    parameters.set(name, value);
  }
  return { essence, parameters };
}

const CHARSETS: Record<string, string> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'us-ascii': 'utf-8',
  'iso-8859-1': 'latin1',
  latin1: 'latin1',
  'utf-16': 'utf-16le',
  'utf-16le': 'utf-16le',
  'utf-16be': 'utf-16be',
};

/** The body as text: a byte-order mark wins over the charset parameter, which defaults to UTF-8. */
export function decodeText(bytes: Uint8Array, charset: string | undefined): string {
  let label = charset === undefined ? 'utf-8' : CHARSETS[charset.toLowerCase()];
  if (label === undefined) throw unsupported(`charset ${charset} is not read on login routes`);
  let start = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) [label, start] = ['utf-8', 3];
  else if (bytes[0] === 0xff && bytes[1] === 0xfe) [label, start] = ['utf-16le', 2];
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) [label, start] = ['utf-16be', 2];
  try {
    return new TextDecoder(label, { fatal: true, ignoreBOM: true }).decode(bytes.subarray(start));
  } catch {
    throw unreadable(`login body is not valid ${label}`);
  }
}

/** Every top-level key of a JSON object, in order, duplicates included (JSON.parse keeps the last). */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(text.slice(i, j + 1)) as string);
      i = j;
      expectKey = false;
    } else if (c === '{' || c === '[') {
      depth++;
      expectKey = c === '{' && depth === 1;
    } else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) expectKey = true;
  }
  return keys;
}

function jsonFields(text: string): Field[] {
  let parsed: unknown;
  try {
    // JSON.parse refuses trailing data, which a lenient parser would ignore.
    parsed = JSON.parse(text);
  } catch {
    throw unreadable('login body is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return [];
  const object = parsed as Record<string, unknown>;
  return topLevelKeys(text).map((name) => {
    const value = object[name];
    return {
      name,
      value:
        typeof value === 'string'
          ? value
          : typeof value === 'number' || typeof value === 'boolean'
            ? String(value)
            : value === null || value === undefined
              ? ''
              : { structured: true as const },
    };
  });
}

/** application/x-www-form-urlencoded, percent-decoded in the body's charset. */
export function formFields(text: string, charset: string | undefined): Field[] {
  const label = charset === undefined ? 'utf-8' : (CHARSETS[charset.toLowerCase()] ?? 'utf-8');
  const decode = (s: string) => {
    const bytes: number[] = [];
    for (let i = 0; i < s.length; i++) {
      const c = s[i]!;
      if (c === '+') bytes.push(0x20);
      else if (c === '%' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
        bytes.push(Number.parseInt(s.slice(i + 1, i + 3), 16));
        i += 2;
      } else bytes.push(...Buffer.from(c, 'utf8'));
    }
    return decodeText(Uint8Array.from(bytes), label === 'latin1' ? 'latin1' : 'utf-8');
  };
  const fields: Field[] = [];
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    fields.push({
      name: decode(eq === -1 ? pair : pair.slice(0, eq)),
      value: eq === -1 ? '' : decode(pair.slice(eq + 1)),
    });
  }
  return fields;
}

/** Loaded on the first multipart login: most enforcers never see one. */
let busboy: Promise<BusboyConstructor> | undefined;

async function multipartFields(body: Buffer, contentType: string): Promise<Field[]> {
  busboy ??= import('@fastify/busboy').then((m) => m.Busboy);
  const Parser = await busboy;
  return new Promise((resolve, reject) => {
    const fields: Field[] = [];
    let parser: Busboy;
    try {
      parser = new Parser({ headers: { 'content-type': contentType }, limits: { fieldSize: 64 * 1024 } });
    } catch {
      reject(unreadable('multipart body without a boundary'));
      return;
    }
    parser.on('field', (name: string, value: string) => fields.push({ name, value }));
    parser.on('file', (name: string, stream: NodeJS.ReadableStream) => {
      fields.push({ name, value: { file: true } });
      stream.resume();
    });
    parser.on('error', () => reject(unreadable('multipart body does not parse')));
    parser.on('finish', () => resolve(fields));
    parser.end(body);
  });
}

/**
 * The fields of a login body; a promise only for multipart. An empty body has none; a body of a
 * media type a login route does not read is refused (415), as is one that does not decode (400).
 */
export function loginBodyFields(
  raw: Buffer,
  headers: { contentType: string | undefined; contentEncoding: string | undefined },
  limit: number,
): Field[] | Promise<Field[]> {
  if (raw.length === 0) return [];
  const body = decodeContent(raw, headers.contentEncoding, limit);
  if (headers.contentType === undefined) throw unsupported('login body without a content type');
  const type = parseMediaType(headers.contentType);
  if (type === undefined) throw unsupported('login body with an unreadable content type');
  const charset = type.parameters.get('charset');
  if (type.essence === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type.essence)) {
    return jsonFields(decodeText(body, charset));
  }
  if (type.essence === 'application/x-www-form-urlencoded')
    return formFields(decodeText(body, 'latin1'), charset);
  if (type.essence === 'multipart/form-data') return multipartFields(body, headers.contentType);
  throw unsupported(`${type.essence} is not read on login routes`);
}
