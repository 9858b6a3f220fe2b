/**
 * A read-only file read in 4 KB pages through the operating system's page cache, keeping only
 * a bounded set of recently used pages in the process. GeoIP data read this way costs the
 * enforcer a few MB instead of the whole file, and one copy of the file in the node's page
 * cache serves every sidecar that reads it (the same image layer, the same file).
 *
 * The pages live in one buffer allocated once, its slots reused (CLOCK replacement). A buffer per
 * page read, dropped on eviction, was freed only when V8 next collected its old generation: under
 * a stream of new client addresses the malloc heap grew by ~30 MB (measured, bench/README.md).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const PAGE_BITS = 12;
export const PAGE_SIZE = 1 << PAGE_BITS;
const WITHIN = PAGE_SIZE - 1;

export class PagedFileError extends Error {}

export class PagedFile {
  readonly size: number;
  private readonly fd: number;
  private readonly slots: Buffer;
  /** Page number → slot holding it. */
  private readonly slotOf = new Map<number, number>();
  /** Slot → page number it holds. */
  private readonly pageIn: Float64Array;
  /** CLOCK reference bits: a slot used since the hand last passed is spared once. */
  private readonly referenced: Uint8Array;
  private hand = 0;
  private filled = 0;
  // The page read last: a tree walk reads many nodes from the same page in a row.
  private lastPage = -1;
  private lastBase = 0;

  /** `maxPages` pages (4 KB each) stay in the process; the rest is read again when needed. */
  constructor(path: string, maxPages: number) {
    if (!(maxPages >= 1)) throw new RangeError('maxPages must be at least 1');
    this.fd = openSync(path, 'r');
    this.size = fstatSync(this.fd).size;
    const slots = Math.min(maxPages, Math.ceil(this.size / PAGE_SIZE) || 1);
    this.slots = Buffer.allocUnsafeSlow(slots * PAGE_SIZE);
    this.pageIn = new Float64Array(slots);
    this.referenced = new Uint8Array(slots);
  }

  /** The offset in `slots` where page `index` starts, reading it in when it is not there. */
  private base(index: number): number {
    if (index === this.lastPage) return this.lastBase;
    let slot = this.slotOf.get(index);
    if (slot === undefined) {
      const start = index * PAGE_SIZE;
      if (start >= this.size || index < 0) throw new PagedFileError(`read past the end of the file`);
      // The slot taken may be the last page's, and holds nothing until the read succeeds.
      this.lastPage = -1;
      slot = this.victim();
      this.pageIn[slot] = -1;
      const length = Math.min(PAGE_SIZE, this.size - start);
      const read = readSync(this.fd, this.slots, slot * PAGE_SIZE, length, start);
      if (read !== length) throw new PagedFileError(`short read at ${start}`);
      this.slotOf.set(index, slot);
      this.pageIn[slot] = index;
    }
    this.referenced[slot] = 1;
    this.lastPage = index;
    this.lastBase = slot * PAGE_SIZE;
    return this.lastBase;
  }

  /** A free slot, or the first one the clock hand finds unused since its last pass. */
  private victim(): number {
    if (this.filled < this.pageIn.length) return this.filled++;
    for (;;) {
      const slot = this.hand;
      this.hand = (slot + 1) % this.pageIn.length;
      if (this.referenced[slot] === 1) {
        this.referenced[slot] = 0;
        continue;
      }
      this.slotOf.delete(this.pageIn[slot]!);
      return slot;
    }
  }

  byte(offset: number): number {
    if (offset < 0 || offset >= this.size) throw new PagedFileError(`read past the end of the file`);
    return this.slots[this.base(offset >>> PAGE_BITS) + (offset & WITHIN)]!;
  }

  /** A little-endian 32-bit word; `offset` a multiple of 4, so it never spans two pages. */
  uint32LE(offset: number): number {
    if (offset < 0 || offset + 4 > this.size || offset % 4 !== 0) {
      throw new PagedFileError(`unaligned or out-of-range word at ${offset}`);
    }
    return this.slots.readUInt32LE(this.base(offset >>> PAGE_BITS) + (offset & WITHIN));
  }

  /**
   * `length` bytes from `offset`. Within one page this is a view of the page's slot, valid only
   * until the next read of this file; bytes spanning pages are a copy.
   */
  bytes(offset: number, length: number): Buffer {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new PagedFileError(`read past the end of the file`);
    }
    const within = offset & WITHIN;
    if (within + length <= PAGE_SIZE) {
      const at = this.base(offset >>> PAGE_BITS) + within;
      return this.slots.subarray(at, at + length);
    }
    const out = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const at = offset + done;
      const from = at & WITHIN;
      const n = Math.min(length - done, PAGE_SIZE - from);
      const base = this.base(at >>> PAGE_BITS);
      this.slots.copy(out, done, base + from, base + from + n);
      done += n;
    }
    return out;
  }

  close(): void {
    closeSync(this.fd);
  }
}
