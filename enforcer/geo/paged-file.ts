/**
 * A read-only file read in 4 KB pages through the operating system's page cache, keeping only
 * a bounded set of recently used pages in the process. GeoIP data read this way costs the
 * enforcer a few MB instead of the whole file, and one copy of the file in the node's page
 * cache serves every sidecar that reads it (the same image layer, the same file).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { BoundedCache } from '../state/bounded-cache.ts';

const PAGE_BITS = 12;
export const PAGE_SIZE = 1 << PAGE_BITS;

export class PagedFileError extends Error {}

export class PagedFile {
  readonly size: number;
  private readonly fd: number;
  private readonly pages: BoundedCache<number, Buffer>;
  // The page read last: a tree walk reads many nodes from the same page in a row.
  private lastIndex = -1;
  private lastPage: Buffer = Buffer.alloc(0);

  /** `maxPages` pages (4 KB each) stay in the process; the rest is read again when needed. */
  constructor(path: string, maxPages: number) {
    this.fd = openSync(path, 'r');
    this.size = fstatSync(this.fd).size;
    this.pages = new BoundedCache({ max: maxPages });
  }

  private page(index: number): Buffer {
    if (index === this.lastIndex) return this.lastPage;
    let page = this.pages.get(index);
    if (page === undefined) {
      const start = index * PAGE_SIZE;
      if (start >= this.size || index < 0) throw new PagedFileError(`read past the end of the file`);
      page = Buffer.allocUnsafeSlow(Math.min(PAGE_SIZE, this.size - start));
      const read = readSync(this.fd, page, 0, page.length, start);
      if (read !== page.length) throw new PagedFileError(`short read at ${start}`);
      this.pages.set(index, page);
    }
    this.lastIndex = index;
    this.lastPage = page;
    return page;
  }

  byte(offset: number): number {
    if (offset < 0 || offset >= this.size) throw new PagedFileError(`read past the end of the file`);
    return this.page(offset >>> PAGE_BITS)[offset & (PAGE_SIZE - 1)]!;
  }

  /** A little-endian 32-bit word; `offset` a multiple of 4, so it never spans two pages. */
  uint32LE(offset: number): number {
    if (offset < 0 || offset + 4 > this.size || offset % 4 !== 0) {
      throw new PagedFileError(`unaligned or out-of-range word at ${offset}`);
    }
    return this.page(offset >>> PAGE_BITS).readUInt32LE(offset & (PAGE_SIZE - 1));
  }

  /** `length` bytes from `offset`: a view when they sit in one page, a copy when they span two. */
  bytes(offset: number, length: number): Buffer {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new PagedFileError(`read past the end of the file`);
    }
    const within = offset & (PAGE_SIZE - 1);
    if (within + length <= PAGE_SIZE) {
      return this.page(offset >>> PAGE_BITS).subarray(within, within + length);
    }
    const out = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const at = offset + done;
      const page = this.page(at >>> PAGE_BITS);
      const from = at & (PAGE_SIZE - 1);
      const n = Math.min(length - done, page.length - from);
      page.copy(out, done, from, from + n);
      done += n;
    }
    return out;
  }

  close(): void {
    closeSync(this.fd);
  }
}
