/**
 * IP → autonomous system. Either a MaxMind ASN file (GeoLite2-ASN) or the CSV ranges of the
 * npm package @ip-location-db/asn, compiled once into sorted tables and cached on disk beside
 * the package; the cache file is then read through the page cache (paged-file.ts), so later
 * starts load it in milliseconds and the process keeps only the pages lookups touch.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseIpInto } from '../net/ip.ts';
import { GeoDatabaseError, openReader } from './geo-database.ts';
import type { MmdbReader } from './mmdb-reader.ts';
import { PagedFile } from './paged-file.ts';

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

/** 32-bit words by index: a typed array while compiling, pages of the cache file once written. */
interface Words {
  readonly length: number;
  at(index: number): number | undefined;
}

/** Little-endian 32-bit words of a paged file, from `offset` on. */
class PagedWords implements Words {
  readonly length: number;
  private readonly file: PagedFile;
  private readonly offset: number;

  constructor(file: PagedFile, offset: number, length: number) {
    this.file = file;
    this.offset = offset;
    this.length = length;
  }

  at(index: number): number {
    return this.file.uint32LE(this.offset + index * 4);
  }
}

/**
 * Names left as UTF-8 in the cache file and decoded when looked up (lookups are cached per
 * client address): ~100k organisation names as JS strings would be ~12 MB of heap.
 */
class PagedNames implements NameTable {
  private readonly file: PagedFile;
  private readonly offsets: Words;
  private readonly bytesAt: number;

  constructor(file: PagedFile, offsets: Words, bytesAt: number) {
    this.file = file;
    this.offsets = offsets;
    this.bytesAt = bytesAt;
  }

  name(index: number): string {
    const start = this.offsets.at(index)!;
    const end = this.offsets.at(index + 1)!;
    return this.file.bytes(this.bytesAt + start, end - start).toString('utf8');
  }
}

/** Compact ranges: for each range, start (4 words), end (4 words), and an index into names. */
interface CompiledAsn {
  v4: Words; // [start, end, asn, nameIndex] × n
  v6: Words; // [start×4, end×4, asn, nameIndex] × n
  names: NameTable;
  /** The names as compiled, for writing the cache; absent when read from it. */
  nameList?: string[];
}

/** Bump when the cache file's layout changes: older files are then recompiled, not misread. */
const CACHE_FORMAT = 2;
/** Pages of the cache file kept in memory (4 KB each): the top of every binary search stays hot. */
const CACHE_PAGES = 512;

/** Ranges per block of the in-memory index (64 IPv4 ranges: 1 KB of the table). */
const BLOCK = 64;

/** The first `width` words of every BLOCK-th entry of a table with `stride` words per entry. */
function sampleStarts(table: Words, stride: number, width: number): Uint32Array {
  const entries = table.length / stride;
  const out = new Uint32Array(Math.ceil(entries / BLOCK) * width);
  for (let e = 0, k = 0; e < entries; e += BLOCK) {
    for (let w = 0; w < width; w++) out[k++] = table.at(e * stride + w)!;
  }
  return out;
}

/**
 * Binary search over entries lo..hi sorted by start: the last one that starts at or before the
 * address (`startsBy`), or lo - 1 when none does.
 */
function lastStartingBy(lo: number, hi: number, startsBy: (i: number) => boolean): number {
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (startsBy(mid)) lo = mid + 1;
    else hi = mid - 1;
  }
  return hi;
}

function compare(a: Words, ai: number, b: Uint32Array): number {
  for (let k = 0; k < 4; k++) {
    const x = a.at(ai + k)!;
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

export function compileAsnCsv(
  v4Csv: string,
  v6Csv: string,
): CompiledAsn & { v4: Uint32Array; v6: Uint32Array } {
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
function serialise(c: CompiledAsn & { v4: Uint32Array; v6: Uint32Array }): Buffer {
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

function openCache(path: string): CompiledAsn {
  const file = new PagedFile(path, CACHE_PAGES);
  const header = file.bytes(0, 16);
  const n4 = header.readUInt32LE(0);
  const n6 = header.readUInt32LE(4);
  const nNames = header.readUInt32LE(8);
  const nameBytes = header.readUInt32LE(12);
  const namesAt = 16 + (n4 + n6 + nNames + 1) * 4;
  if (file.size !== namesAt + nameBytes) {
    file.close();
    throw new Error('ASN cache file has the wrong size');
  }
  const offsets = new PagedWords(file, 16 + (n4 + n6) * 4, nNames + 1);
  return {
    v4: new PagedWords(file, 16, n4),
    v6: new PagedWords(file, 16 + n4 * 4, n6),
    names: new PagedNames(file, offsets, namesAt),
  };
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
      return openCache(cache);
    } catch {}
  }
  const compiled = compileAsnCsv(readFileSync(v4Path, 'utf8'), readFileSync(v6Path, 'utf8'));
  try {
    mkdirSync(dirname(cache), { recursive: true });
    writeFileSync(cache, serialise(compiled));
    return openCache(cache);
  } catch {
    // A read-only filesystem (a container) just compiles at each start, and keeps the tables.
  }
  return compiled;
}

export class AsnDatabase {
  private readonly compiled: CompiledAsn | undefined;
  private readonly reader: MmdbReader | undefined;
  private readonly words = new Uint32Array(4);

  /**
   * The start of every BLOCK-th range, in memory: a lookup finds its block here and then
   * searches one block of the table (a page or two) instead of ~20 pages across the file.
   */
  private readonly blocks4: Uint32Array;
  private readonly blocks6: Uint32Array;

  private constructor(compiled: CompiledAsn | undefined, reader: MmdbReader | undefined) {
    this.compiled = compiled;
    this.blocks4 = compiled ? sampleStarts(compiled.v4, 4, 1) : new Uint32Array(0);
    this.blocks6 = compiled ? sampleStarts(compiled.v6, 10, 4) : new Uint32Array(0);
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
    const family = parseIpInto(ip, this.words);
    if (family === 0) return undefined;
    if (this.reader) {
      try {
        const r = this.reader.lookup(this.words, family) as AsnRecord | undefined;
        if (r?.autonomous_system_number === undefined) return undefined;
        return { asn: r.autonomous_system_number, organisation: r.autonomous_system_organization ?? '' };
      } catch {
        return undefined;
      }
    }
    const c = this.compiled!;
    const words = this.words;
    if (family === 4) {
      const v = words[3]!;
      const b = this.blocks4;
      const block = lastStartingBy(0, b.length - 1, (i) => b[i]! <= v);
      if (block < 0) return undefined;
      const first = block * BLOCK;
      const hit = lastStartingBy(
        first,
        Math.min(c.v4.length / 4, first + BLOCK) - 1,
        (i) => c.v4.at(i * 4)! <= v,
      );
      if (v > c.v4.at(hit * 4 + 1)!) return undefined;
      return { asn: c.v4.at(hit * 4 + 2)!, organisation: c.names.name(c.v4.at(hit * 4 + 3)!) };
    }
    const b = this.blocks6;
    const block = lastStartingBy(0, b.length / 4 - 1, (i) => compare(b, i * 4, words) <= 0);
    if (block < 0) return undefined;
    const first = block * BLOCK;
    const hit = lastStartingBy(
      first,
      Math.min(c.v6.length / 10, first + BLOCK) - 1,
      (i) => compare(c.v6, i * 10, words) <= 0,
    );
    if (compare(c.v6, hit * 10 + 4, words) < 0) return undefined;
    return { asn: c.v6.at(hit * 10 + 8)!, organisation: c.names.name(c.v6.at(hit * 10 + 9)!) };
  }
}
