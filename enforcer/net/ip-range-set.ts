/**
 * A set of IP ranges compiled from CIDRs: sorted, merged, disjoint ranges in typed arrays,
 * looked up by binary search with no allocation. IPv4 ranges are two flat arrays of 32-bit
 * starts and ends (a million CIDRs: 8 MB); large sets add an index by the first 16 bits, so a
 * lookup searches only the ranges of its /16 and touches a few cache lines instead of twenty.
 */
import { parseIpInto } from './ip.ts';

export class CidrError extends Error {
  readonly code = 'RG_ERR_BAD_CIDR';
}

function compare(a: Uint32Array, ai: number, b: Uint32Array, bi: number): number {
  for (let k = 0; k < 4; k++) {
    const x = a[ai + k]!;
    const y = b[bi + k]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Sets `end` to the last address of the prefix that starts at `start`. */
function prefixBounds(
  words: Uint32Array,
  bits: number,
  totalBits: number,
  start: Uint32Array,
  end: Uint32Array,
) {
  const offset = 128 - totalBits; // IPv4 lives in the last word
  for (let w = 0; w < 4; w++) {
    const wordStart = w * 32;
    const keep = Math.max(0, Math.min(32, offset + bits - wordStart));
    const inRange = wordStart + 32 > offset;
    const mask = keep === 0 ? 0 : keep === 32 ? 0xffffffff : (0xffffffff << (32 - keep)) >>> 0;
    start[w] = inRange ? (words[w]! & mask) >>> 0 : 0;
    end[w] = inRange ? (start[w]! | (~mask >>> 0)) >>> 0 : 0;
  }
}

/** Sets with more IPv4 ranges than this get the /16 index (256 KB). */
const INDEX_THRESHOLD = 4096;

export interface Ipv4Ranges {
  starts: Uint32Array;
  ends: Uint32Array;
}

/** For each /16 p, the first range whose start is at or after p << 16 (65,537 entries). */
function indexBySlash16(starts: Uint32Array): Uint32Array {
  const index = new Uint32Array(65_537);
  let i = 0;
  for (let p = 0; p <= 65_536; p++) {
    const boundary = p * 65_536;
    while (i < starts.length && starts[i]! < boundary) i++;
    index[p] = i;
  }
  return index;
}

export interface RangeArrays {
  v4Starts: Uint32Array;
  v4Ends: Uint32Array;
  v4Index: Uint32Array | undefined;
  v6: Uint32Array;
  size: number;
}

export class IpRangeSet {
  private readonly v4Starts: Uint32Array;
  private readonly v4Ends: Uint32Array;
  private readonly v4Index: Uint32Array | undefined;
  /** Flattened [start(4 words), end(4 words)] per range, sorted by start. */
  private readonly v6: Uint32Array;
  readonly size: number;

  /** Use IpRangeSet.from or IpRangeSetBuilder: the arrays must be sorted and merged. */
  constructor(v4: Ipv4Ranges, v6: Uint32Array, size: number, v4Index?: Uint32Array) {
    this.v4Starts = v4.starts;
    this.v4Ends = v4.ends;
    this.v4Index = v4Index ?? (v4.starts.length > INDEX_THRESHOLD ? indexBySlash16(v4.starts) : undefined);
    this.v6 = v6;
    this.size = size;
  }

  /** The set's arrays, to hand to another thread (their buffers can be transferred, not copied). */
  toArrays(): RangeArrays {
    return {
      v4Starts: this.v4Starts,
      v4Ends: this.v4Ends,
      v4Index: this.v4Index,
      v6: this.v6,
      size: this.size,
    };
  }

  /** A set from arrays another thread built with toArrays(). */
  static fromArrays(a: RangeArrays): IpRangeSet {
    return new IpRangeSet({ starts: a.v4Starts, ends: a.v4Ends }, a.v6, a.size, a.v4Index);
  }

  static empty(): IpRangeSet {
    return new IpRangeSet({ starts: new Uint32Array(0), ends: new Uint32Array(0) }, new Uint32Array(0), 0);
  }

  /** Compiles CIDRs or bare addresses; throws CidrError naming the first bad entry. */
  static from(entries: Iterable<string>): IpRangeSet {
    const builder = new IpRangeSetBuilder();
    for (const entry of entries) {
      if (!builder.add(entry))
        throw new CidrError(`not an IP address or CIDR: ${JSON.stringify(entry.slice(0, 64))}`);
    }
    return builder.build();
  }

  has(family: 4 | 6, words: Uint32Array): boolean {
    return family === 4 ? this.hasV4(words[3]!) : this.hasV6(words);
  }

  private hasV4(address: number): boolean {
    const starts = this.v4Starts;
    let lo = 0;
    let hi = starts.length - 1;
    if (this.v4Index !== undefined) {
      const p = address >>> 16;
      lo = this.v4Index[p]!;
      hi = this.v4Index[p + 1]! - 1;
    }
    // Ends on the last range starting at or before the address; when none starts in the
    // searched /16, on the one just before it, which may still reach over.
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid]! <= address) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 && this.v4Ends[hi]! >= address;
  }

  private hasV6(words: Uint32Array): boolean {
    const ranges = this.v6;
    let lo = 0;
    let hi = ranges.length / 8 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (compare(ranges, mid * 8, words, 0) <= 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 && compare(words, 0, ranges, hi * 8 + 4) <= 0;
  }

  hasText(address: string): boolean {
    const words = new Uint32Array(4);
    const family = parseIpInto(address, words);
    return family !== 0 && this.has(family, words);
  }
}

export class IpRangeSetBuilder {
  // Ranges as flat typed arrays that grow by doubling: a million CIDRs never become a million
  // small arrays, so compiling a big feed costs its size, not ten times it.
  private v4 = new Uint32Array(1024); // [start, end] per range
  private v4Count = 0;
  private v6 = new Uint32Array(1024); // [start×4, end×4] per range
  private v6Count = 0;
  private readonly words = new Uint32Array(4);
  private readonly start = new Uint32Array(4);
  private readonly end = new Uint32Array(4);
  count = 0;

  /** Adds a CIDR or address; false when it is not one. */
  add(entry: string): boolean {
    // Read in place, without cutting strings from the line: a million-line feed would make
    // millions of them for the parse thread's collector.
    const slash = entry.indexOf('/');
    const addressEnd = slash === -1 ? entry.length : slash;
    const family = parseIpInto(entry, this.words, addressEnd);
    if (family === 0) return false;
    const colon = entry.indexOf(':');
    const isMappedV4 = family === 4 && colon !== -1 && colon < addressEnd;
    const totalBits = family === 4 ? 32 : 128;
    let bits = totalBits;
    if (slash !== -1) {
      const digits = entry.length - slash - 1;
      if (digits === 0 || digits > 3) return false;
      bits = 0;
      for (let i = slash + 1; i < entry.length; i++) {
        const c = entry.charCodeAt(i);
        if (c < 48 || c > 57) return false;
        bits = bits * 10 + (c - 48);
      }
      // ::ffff:10.0.0.0/104 is the IPv4 /8 it maps.
      if (isMappedV4) bits -= 96;
      if (bits < 0 || bits > totalBits) return false;
    }
    prefixBounds(this.words, bits, totalBits, this.start, this.end);
    if (family === 4) {
      if ((this.v4Count + 1) * 2 > this.v4.length) this.v4 = grow(this.v4);
      this.v4[this.v4Count * 2] = this.start[3]!;
      this.v4[this.v4Count * 2 + 1] = this.end[3]!;
      this.v4Count++;
    } else {
      if ((this.v6Count + 1) * 8 > this.v6.length) this.v6 = grow(this.v6);
      this.v6.set(this.start, this.v6Count * 8);
      this.v6.set(this.end, this.v6Count * 8 + 4);
      this.v6Count++;
    }
    this.count++;
    return true;
  }

  build(): IpRangeSet {
    return new IpRangeSet(this.packV4(), this.packV6(), this.count);
  }

  /**
   * IPv4: order the ranges by start, then merge. Ranges that share a start merge into the longest
   * whatever their order, so the start alone is the key: a radix sort of it in two 16-bit passes
   * over typed arrays, which makes no garbage (a 64-bit BigInt key per range made three heap
   * objects a range: 2.4 million for a million-line feed, collected on V8's helper threads beside
   * the request path).
   */
  private packV4(): Ipv4Ranges {
    const count = this.v4Count;
    const v4 = this.v4;
    const order = sortedByStart(v4, count);
    const starts = new Uint32Array(count);
    const ends = new Uint32Array(count);
    let n = 0;
    for (let k = 0; k < count; k++) {
      const i = order[k]!;
      const start = v4[i * 2]!;
      const end = v4[i * 2 + 1]!;
      // Overlapping or adjacent ranges become one (numbers, so end + 1 cannot overflow).
      if (n > 0 && start <= ends[n - 1]! + 1) {
        if (end > ends[n - 1]!) ends[n - 1] = end;
      } else {
        starts[n] = start;
        ends[n] = end;
        n++;
      }
    }
    return { starts: starts.slice(0, n), ends: ends.slice(0, n) };
  }

  private packV6(): Uint32Array {
    const v6 = this.v6;
    const order = new Uint32Array(this.v6Count);
    for (let i = 0; i < order.length; i++) order[i] = i;
    order.sort((a, b) => compareAt(v6, a * 8, b * 8));
    const out = new Uint32Array(this.v6Count * 8);
    let n = 0;
    for (const i of order) {
      if (n > 0 && compareAt(v6, i * 8, -1, out, (n - 1) * 8 + 4) <= 0) {
        if (compareAt(v6, i * 8 + 4, -1, out, (n - 1) * 8 + 4) > 0) {
          for (let k = 0; k < 4; k++) out[(n - 1) * 8 + 4 + k] = v6[i * 8 + 4 + k]!;
        }
      } else {
        for (let k = 0; k < 8; k++) out[n * 8 + k] = v6[i * 8 + k]!;
        n++;
      }
    }
    return out.slice(0, n * 8);
  }
}

/** Indexes of the first `count` (start, end) pairs of `pairs`, ordered by start (LSD radix, stable). */
function sortedByStart(pairs: Uint32Array, count: number): Uint32Array {
  let order = new Uint32Array(count);
  let next = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  // Two passes over 65,536 buckets cost more than sorting a short list (a policy's few CIDRs).
  if (count < 4096) return order.sort((a, b) => pairs[a * 2]! - pairs[b * 2]!);
  const buckets = new Uint32Array(1 << 16);
  for (const shift of [0, 16]) {
    buckets.fill(0);
    for (let i = 0; i < count; i++) buckets[(pairs[i * 2]! >>> shift) & 0xffff]!++;
    let at = 0;
    for (let b = 0; b < buckets.length; b++) {
      const size = buckets[b]!;
      buckets[b] = at;
      at += size;
    }
    for (let k = 0; k < count; k++) {
      const i = order[k]!;
      next[buckets[(pairs[i * 2]! >>> shift) & 0xffff]!++] = i;
    }
    [order, next] = [next, order];
  }
  return order;
}

function grow(a: Uint32Array): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(a.length * 2);
  b.set(a);
  return b;
}

/** Compares 4 words of `a` at ai with 4 words of `b` (or of `a` at bi when b is omitted). */
function compareAt(a: Uint32Array, ai: number, bi: number, b?: ArrayLike<number>, bj?: number): number {
  const other = b ?? a;
  const j = b ? bj! : bi;
  for (let k = 0; k < 4; k++) {
    const x = a[ai + k]!;
    const y = other[j + k]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
