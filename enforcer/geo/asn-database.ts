/**
 * IP → autonomous system. Either a MaxMind ASN file (GeoLite2-ASN) or the CSV ranges of the
 * npm package @ip-location-db/asn, compiled once into sorted typed arrays and cached on disk
 * beside the package, so later starts load it in milliseconds.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Reader, Response } from 'maxmind';
import { parseIpInto } from '../net/ip.ts';
import { GeoDatabaseError, openReader } from './geo-database.ts';

export interface AsnInfo {
  asn: number;
  organisation: string;
}

interface AsnRecord {
  autonomous_system_number?: number;
  autonomous_system_organization?: string;
}

/** Organisation names by index. */
interface NameTable {
  name(index: number): string;
}

/**
 * Names left as UTF-8 in the cache file and decoded when looked up (lookups are cached per
 * client address): ~100k organisation names as JS strings would be ~12 MB of heap.
 */
class BufferNames implements NameTable {
  private readonly bytes: Buffer;
  private readonly offsets: Uint32Array;

  constructor(bytes: Buffer, offsets: Uint32Array) {
    this.bytes = bytes;
    this.offsets = offsets;
  }

  name(index: number): string {
    return this.bytes.toString('utf8', this.offsets[index]!, this.offsets[index + 1]!);
  }
}

/** Compact ranges: for each range, start (4 words), end (4 words), and an index into names. */
interface CompiledAsn {
  v4: Uint32Array; // [start, end, asn, nameIndex] × n
  v6: Uint32Array; // [start×4, end×4, asn, nameIndex] × n
  names: NameTable;
  /** The names as compiled, for writing the cache; absent when read from it. */
  nameList?: string[];
}

/** Bump when the cache file's layout changes: older files are then recompiled, not misread. */
const CACHE_FORMAT = 2;

function compare(a: Uint32Array, ai: number, b: Uint32Array): number {
  for (let k = 0; k < 4; k++) {
    const x = a[ai + k]!;
    const y = b[k]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function parseCsvLine(line: string): [string, string, string, string] | undefined {
  const first = line.indexOf(',');
  const second = line.indexOf(',', first + 1);
  const third = line.indexOf(',', second + 1);
  if (first < 0 || second < 0 || third < 0) return undefined;
  let name = line.slice(third + 1);
  if (name.startsWith('"') && name.endsWith('"')) name = name.slice(1, -1).replaceAll('""', '"');
  return [line.slice(0, first), line.slice(first + 1, second), line.slice(second + 1, third), name];
}

export function compileAsnCsv(v4Csv: string, v6Csv: string): CompiledAsn {
  const names: string[] = [];
  const nameIndex = new Map<string, number>();
  const indexOf = (name: string) => {
    let i = nameIndex.get(name);
    if (i === undefined) {
      i = names.length;
      names.push(name);
      nameIndex.set(name, i);
    }
    return i;
  };
  const words = new Uint32Array(4);
  const build = (csv: string, stride: number) => {
    const out: number[] = [];
    for (const line of csv.split('\n')) {
      const parts = parseCsvLine(line.trim());
      if (!parts) continue;
      const [start, end, asn, name] = parts;
      const values: number[] = [];
      for (const addr of [start, end]) {
        const family = parseIpInto(addr, words);
        if (family === 0) break;
        if (stride === 4) values.push(words[3]!);
        else values.push(words[0]!, words[1]!, words[2]!, words[3]!);
      }
      if (values.length !== (stride === 4 ? 2 : 8)) continue;
      out.push(...values, Number(asn) >>> 0, indexOf(name));
    }
    return Uint32Array.from(out);
  };
  return { v4: build(v4Csv, 4), v6: build(v6Csv, 10), names: { name: (i) => names[i]! }, nameList: names };
}

/** [n4, n6, nNames, nameBytes] header, v4, v6, name offsets (nNames + 1), name bytes (UTF-8). */
function serialise(c: CompiledAsn): Buffer {
  const names = c.nameList!.map((n) => Buffer.from(n, 'utf8'));
  const offsets = new Uint32Array(names.length + 1);
  for (let i = 0; i < names.length; i++) offsets[i + 1] = offsets[i]! + names[i]!.length;
  const header = Buffer.alloc(16);
  header.writeUInt32LE(c.v4.length, 0);
  header.writeUInt32LE(c.v6.length, 4);
  header.writeUInt32LE(names.length, 8);
  header.writeUInt32LE(offsets[names.length]!, 12);
  return Buffer.concat([
    header,
    Buffer.from(c.v4.buffer),
    Buffer.from(c.v6.buffer),
    Buffer.from(offsets.buffer),
    ...names,
  ]);
}

function deserialise(buf: Buffer): CompiledAsn {
  const n4 = buf.readUInt32LE(0);
  const n6 = buf.readUInt32LE(4);
  const nNames = buf.readUInt32LE(8);
  const nameBytes = buf.readUInt32LE(12);
  const namesAt = 16 + (n4 + n6 + nNames + 1) * 4;
  if (buf.length !== namesAt + nameBytes) throw new Error('ASN cache file has the wrong size');
  // Views on the file's own memory when it is 4-byte aligned (a large readFileSync is): the
  // table then costs its size once, not twice.
  const view = (offset: number, count: number) => {
    if ((buf.byteOffset + offset) % 4 === 0)
      return new Uint32Array(buf.buffer, buf.byteOffset + offset, count);
    const out = new Uint32Array(count);
    Buffer.from(out.buffer).set(buf.subarray(offset, offset + count * 4));
    return out;
  };
  const v4 = view(16, n4);
  const v6 = view(16 + n4 * 4, n6);
  const offsets = view(16 + (n4 + n6) * 4, nNames + 1);
  return { v4, v6, names: new BufferNames(buf.subarray(namesAt), offsets) };
}

/** Loads the CSV pair, compiling into a cache file on first use. */
export function loadAsnCsv(v4Path: string, v6Path: string, cacheDir: string): CompiledAsn {
  const stamp = [
    CACHE_FORMAT,
    ...[v4Path, v6Path].map((p) => `${p}:${statSync(p).size}:${statSync(p).mtimeMs}`),
  ].join('|');
  const cache = join(cacheDir, `asn-${createHash('sha256').update(stamp).digest('hex').slice(0, 16)}.bin`);
  if (existsSync(cache)) {
    try {
      return deserialise(readFileSync(cache));
    } catch {}
  }
  const compiled = compileAsnCsv(readFileSync(v4Path, 'utf8'), readFileSync(v6Path, 'utf8'));
  try {
    mkdirSync(dirname(cache), { recursive: true });
    writeFileSync(cache, serialise(compiled));
  } catch {
    // A read-only filesystem (a container) just compiles at each start.
  }
  return compiled;
}

export class AsnDatabase {
  private readonly compiled: CompiledAsn | undefined;
  private readonly reader: Reader<Response> | undefined;
  private readonly words = new Uint32Array(4);

  private constructor(compiled: CompiledAsn | undefined, reader: Reader<Response> | undefined) {
    this.compiled = compiled;
    this.reader = reader;
  }

  static fromMmdb(path: string): AsnDatabase {
    return new AsnDatabase(undefined, openReader(path, /asn/i));
  }

  static fromCsv(v4Path: string, v6Path: string, cacheDir: string): AsnDatabase {
    try {
      return new AsnDatabase(loadAsnCsv(v4Path, v6Path, cacheDir), undefined);
    } catch (err) {
      throw new GeoDatabaseError(`ASN data ${v4Path}: ${(err as Error).message}`);
    }
  }

  lookup(ip: string): AsnInfo | undefined {
    if (this.reader) {
      try {
        const r = this.reader.get(ip) as AsnRecord | null;
        if (r?.autonomous_system_number === undefined) return undefined;
        return { asn: r.autonomous_system_number, organisation: r.autonomous_system_organization ?? '' };
      } catch {
        return undefined;
      }
    }
    const c = this.compiled!;
    const family = parseIpInto(ip, this.words);
    if (family === 0) return undefined;
    if (family === 4) {
      const v = this.words[3]!;
      let lo = 0;
      let hi = c.v4.length / 4 - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        if (c.v4[mid * 4]! <= v) lo = mid + 1;
        else hi = mid - 1;
      }
      if (hi < 0 || v > c.v4[hi * 4 + 1]!) return undefined;
      return { asn: c.v4[hi * 4 + 2]!, organisation: c.names.name(c.v4[hi * 4 + 3]!) };
    }
    let lo = 0;
    let hi = c.v6.length / 10 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (compare(c.v6, mid * 10, this.words) <= 0) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi < 0 || compare(c.v6, hi * 10 + 4, this.words) < 0) return undefined;
    return { asn: c.v6[hi * 10 + 8]!, organisation: c.names.name(c.v6[hi * 10 + 9]!) };
  }
}
