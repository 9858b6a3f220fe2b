/**
 * Threat-feed parsing into a range set: plain lists (one IP or CIDR a line), FireHOL .netset
 * (the same, with # headers) and Spamhaus DROP (`CIDR ; SBL id`), read line by line as the
 * contract says (contract/shared-feed.ts). A line that is not an address is counted, not fatal:
 * real feeds carry the odd stray line, and one must not cost us the other million.
 */
import {
  checkInvalidShare,
  type FeedFormat,
  FeedFormatError,
  forEachFeedEntry,
} from '../../contract/shared-feed.ts';
import { IpRangeSet, IpRangeSetBuilder, type RangeArrays } from '../net/ip-range-set.ts';

export { type FeedFormat, FeedFormatError };

export interface ParsedFeed {
  ranges: IpRangeSet;
  entries: number;
  invalidLines: number;
}

export function parseFeed(text: string, format: FeedFormat): ParsedFeed {
  const builder = new IpRangeSetBuilder();
  let invalidLines = 0;
  const lines = forEachFeedEntry(text, format, (line) => {
    if (!builder.add(line)) invalidLines++;
  });
  checkInvalidShare(lines, invalidLines);
  return { ranges: builder.build(), entries: builder.count, invalidLines };
}

/** Texts longer than this are parsed on a worker thread (a million lines is some 15 MB). */
export const OFF_THREAD_BYTES = 1 << 20;

/**
 * parseFeed, on a worker thread for a large text, so that the event loop keeps serving requests
 * while a big feed is decoded, parsed, sorted and merged; the set is then swapped in at once.
 * Bytes (a file, a download, Redis) move to the worker without a copy; a string would be
 * serialised on this thread, which for 15 MB stalls it for a hundred milliseconds.
 */
export async function parseFeedOffThread(
  input: string | Uint8Array,
  format: FeedFormat,
): Promise<ParsedFeed> {
  if (input.length < OFF_THREAD_BYTES) {
    return parseFeed(typeof input === 'string' ? input : Buffer.from(input).toString('utf8'), format);
  }
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  // Its own buffer, so the transfer moves exactly these bytes (a Buffer may share its memory).
  const owned =
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength &&
    bytes.buffer instanceof ArrayBuffer
      ? (bytes.buffer as ArrayBuffer)
      : bytes.slice().buffer;
  const { Worker } = await import('node:worker_threads');
  // The compiled image runs dist/…/feed-parse-worker.js; the sources run the .ts beside this.
  const file = new URL(
    `./feed-parse-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
    import.meta.url,
  );
  type Answer =
    | { ok: true; arrays: RangeArrays; entries: number; invalidLines: number }
    | { ok: false; message: string; format: boolean };
  return new Promise<ParsedFeed>((resolve, reject) => {
    const worker = new Worker(file, {
      workerData: { bytes: new Uint8Array(owned), format },
      transferList: [owned],
    });
    worker.once('message', (m: Answer) => {
      if (m.ok)
        resolve({
          ranges: IpRangeSet.fromArrays(m.arrays),
          entries: m.entries,
          invalidLines: m.invalidLines,
        });
      else reject(m.format ? new FeedFormatError(m.message) : new Error(m.message));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`feed parser exited with ${code}`));
    });
  });
}
