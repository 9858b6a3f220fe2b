import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PAGE_SIZE, PagedFile, PagedFileError } from './paged-file.ts';

function fileOf(bytes: Buffer): string {
  const path = join(mkdtempSync(join(tmpdir(), 'paged-')), 'data.bin');
  writeFileSync(path, bytes);
  return path;
}

// Deterministic offsets: the same sequence on every run.
function* offsets(seed: number, count: number, max: number): Generator<number> {
  let x = seed;
  for (let i = 0; i < count; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    yield x % max;
  }
}

describe('PagedFile', () => {
  // 10.5 pages: the last page is short.
  const content = randomBytes(10 * PAGE_SIZE + PAGE_SIZE / 2);
  const path = fileOf(content);

  it('reads what the file holds through a cache of 3 pages, words and spans included', () => {
    const file = new PagedFile(path, 3);
    for (const at of offsets(7, 5000, content.length)) {
      expect(file.byte(at)).toBe(content[at]);
      const word = at - (at % 4);
      if (word + 4 <= content.length) expect(file.uint32LE(word)).toBe(content.readUInt32LE(word));
      const length = Math.min(content.length - at, 1 + (at % (2 * PAGE_SIZE)));
      expect(file.bytes(at, length).equals(content.subarray(at, at + length))).toBe(true);
    }
    file.close();
  });

  it('gives the right bytes when a hot page and a scan compete for 4 slots', () => {
    const file = new PagedFile(path, 4);
    // Page 0 is read between every other page, so the clock keeps sparing it.
    for (let round = 0; round < 3; round++) {
      for (let page = 1; page <= 10; page++) {
        expect(file.byte(5)).toBe(content[5]);
        expect(file.byte(page * PAGE_SIZE + 1)).toBe(content[page * PAGE_SIZE + 1]);
      }
    }
    file.close();
  });

  it('refuses reads outside the file and unaligned words', () => {
    const file = new PagedFile(path, 2);
    expect(() => file.byte(content.length)).toThrow(PagedFileError);
    expect(() => file.byte(-1)).toThrow(PagedFileError);
    expect(() => file.bytes(content.length - 2, 3)).toThrow(PagedFileError);
    expect(() => file.uint32LE(2)).toThrow(PagedFileError);
    expect(() => file.uint32LE(content.length - 2)).toThrow(PagedFileError);
    // A refused read leaves the cache usable.
    expect(file.bytes(content.length - 2, 2).equals(content.subarray(-2))).toBe(true);
    file.close();
  });
});
