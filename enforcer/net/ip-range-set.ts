/**
 * A set of IP ranges compiled from CIDRs: sorted, merged, disjoint ranges in typed arrays,
 * looked up by binary search. A million CIDRs cost about 8 MB (IPv4) and ~20 comparisons
 * per lookup, with no allocation on the lookup path.
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

export class IpRangeSet {
  /** Flattened [start(4 words), end(4 words)] per range, sorted by start. */
  private readonly v4: Uint32Array;
  private readonly v6: Uint32Array;
  readonly size: number;

  /** Use IpRangeSet.from or IpRangeSetBuilder: the arrays must be sorted and merged. */
  constructor(v4: Uint32Array, v6: Uint32Array, size: number) {
    this.v4 = v4;
    this.v6 = v6;
    this.size = size;
  }

  static empty(): IpRangeSet {
    return new IpRangeSet(new Uint32Array(0), new Uint32Array(0), 0);
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
    const ranges = family === 4 ? this.v4 : this.v6;
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
  private readonly v4: number[][] = [];
  private readonly v6: number[][] = [];
  private readonly words = new Uint32Array(4);
  private readonly start = new Uint32Array(4);
  private readonly end = new Uint32Array(4);
  count = 0;

  /** Adds a CIDR or address; false when it is not one. */
  add(entry: string): boolean {
    const slash = entry.indexOf('/');
    const address = slash === -1 ? entry : entry.slice(0, slash);
    const family = parseIpInto(address, this.words);
    if (family === 0) return false;
    const isMappedV4 = family === 4 && address.includes(':');
    const totalBits = family === 4 ? 32 : 128;
    let bits = totalBits;
    if (slash !== -1) {
      const text = entry.slice(slash + 1);
      if (text.length === 0 || text.length > 3) return false;
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c < 48 || c > 57) return false;
      }
      bits = Number(text);
      // ::ffff:10.0.0.0/104 is the IPv4 /8 it maps.
      if (isMappedV4) bits -= 96;
      if (bits < 0 || bits > totalBits) return false;
    }
    prefixBounds(this.words, bits, totalBits, this.start, this.end);
    (family === 4 ? this.v4 : this.v6).push([...this.start, ...this.end]);
    this.count++;
    return true;
  }

  build(): IpRangeSet {
    const pack = (ranges: number[][]): Uint32Array => {
      const cmp = (a: number[], b: number[], ao: number, bo: number) => {
        for (let k = 0; k < 4; k++) if (a[ao + k] !== b[bo + k]) return a[ao + k]! - b[bo + k]!;
        return 0;
      };
      ranges.sort((a, b) => cmp(a, b, 0, 0));
      const merged: number[][] = [];
      for (const r of ranges) {
        const last = merged[merged.length - 1];
        if (last && cmp(r, last, 0, 4) <= 0) {
          if (cmp(r, last, 4, 4) > 0) for (let k = 0; k < 4; k++) last[4 + k] = r[4 + k]!;
        } else {
          merged.push(r);
        }
      }
      const out = new Uint32Array(merged.length * 8);
      merged.forEach((r, i) => {
        out.set(r, i * 8);
      });
      return out;
    };
    return new IpRangeSet(pack(this.v4), pack(this.v6), this.count);
  }
}
