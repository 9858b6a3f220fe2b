/**
 * Threat-feed parsing into a range set: plain lists (one IP or CIDR a line), FireHOL .netset
 * (the same, with # headers) and Spamhaus DROP (`CIDR ; SBL id`), read line by line as the
 * contract says (contract/shared-feed.ts). A line that is not an address is counted, not fatal:
 * real feeds carry the odd stray line, and one must not cost us the other million.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  checkInvalidShare,
  type FeedChunks,
  type FeedFormat,
  FeedFormatError,
  forEachFeedEntry,
} from '../../contract/shared-feed.ts';
import { IpRangeSet, IpRangeSetBuilder, type RangeArrays } from '../net/ip-range-set.ts';
import { runBackgroundJob } from '../threads/background-worker.ts';

export { type FeedFormat, FeedFormatError };

export interface ParsedFeed {
  ranges: IpRangeSet;
  entries: number;
  invalidLines: number;
  /** feedDigest of the list, when parsed through parseFeedOffThread. */
  digest?: string;
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

/**
 * Texts longer than this are parsed on a worker thread. 64 KiB is about 4,000 lines, a few
 * milliseconds on the main thread; at the 1 MiB this was, a list of 60,000 lines parsed there
 * for 30-35 ms at every refresh (43 ms for 20,000 the first time), a stall of every request.
 */
export const OFF_THREAD_BYTES = 64 * 1024;

/**
 * What a feed's list is read from: text, bytes, the chunks a download arrived in, or a file the
 * parser reads itself.
 */
export type FeedInput = string | Uint8Array | FeedChunks | { file: string; size: number };

/** The list's identity: a list served again unchanged is not parsed again. */
export function feedDigest(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Bytes copied into shared memory per turn of the event loop (~1 ms here). */
const COPY_SLICE_BYTES = 1 << 20;
/**
 * Chunks copied per turn, whatever their size (~0.2-0.6 µs each into shared memory): a server
 * that trickles its list a byte at a time put 300,000 one-byte chunks, 180-340 ms of copying,
 * into one turn.
 */
const COPY_SLICE_CHUNKS = 4096;

/**
 * The list in shared memory, not transferred: a job the request path starves is started again,
 * and the second worker reads the same bytes. Bytes are copied a slice per turn of the event
 * loop — 20 MB at once took it 18-21 ms — and a string is encoded at once, as before.
 */
async function sharedCopy(input: string | Uint8Array | FeedChunks): Promise<Uint8Array> {
  if (typeof input === 'string') {
    const shared = Buffer.from(new SharedArrayBuffer(Buffer.byteLength(input, 'utf8')));
    shared.write(input, 'utf8');
    return new Uint8Array(shared.buffer);
  }
  const pieces = 'chunks' in input ? input.chunks : [input];
  const shared = new Uint8Array(new SharedArrayBuffer('chunks' in input ? input.size : input.byteLength));
  let at = 0;
  let bytesThisTurn = 0;
  let chunksThisTurn = 0;
  for (const piece of pieces) {
    for (let from = 0; from < piece.byteLength; ) {
      if (bytesThisTurn === COPY_SLICE_BYTES || chunksThisTurn === COPY_SLICE_CHUNKS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        bytesThisTurn = 0;
        chunksThisTurn = 0;
      }
      const n = Math.min(piece.byteLength - from, COPY_SLICE_BYTES - bytesThisTurn);
      shared.set(n === piece.byteLength ? piece : piece.subarray(from, from + n), at);
      at += n;
      from += n;
      bytesThisTurn += n;
      chunksThisTurn++;
    }
  }
  return shared;
}

/**
 * parseFeed, on a worker thread for a large list, so that the event loop keeps serving requests
 * while a big feed is read, decoded, parsed, sorted and merged; the set is then swapped in at
 * once. A file is read by the worker (its bytes never enter this thread's heap: twenty megabytes
 * of them made V8 collect the whole heap at every refresh, a pause of tens of milliseconds);
 * a download's chunks, bytes (Redis) and strings are shared with it through a SharedArrayBuffer
 * (`sharedCopy`), not serialised: serialising 15 MB of string stalled this thread for a hundred
 * milliseconds. With `unchangedFrom`, a list whose digest is that one is not parsed: undefined.
 */
export function parseFeedOffThread(input: FeedInput, format: FeedFormat): Promise<ParsedFeed>;
export function parseFeedOffThread(
  input: FeedInput,
  format: FeedFormat,
  unchangedFrom: string | undefined,
): Promise<ParsedFeed | undefined>;
export async function parseFeedOffThread(
  input: FeedInput,
  format: FeedFormat,
  unchangedFrom?: string,
): Promise<ParsedFeed | undefined> {
  const inMemory = typeof input === 'string' || input instanceof Uint8Array;
  if ((inMemory ? input.length : input.size) < OFF_THREAD_BYTES) {
    const small = inMemory
      ? input
      : 'file' in input
        ? await readFile(input.file)
        : Buffer.concat(input.chunks, input.size);
    const digest = feedDigest(small);
    if (digest === unchangedFrom) return undefined;
    const text = typeof small === 'string' ? small : Buffer.from(small).toString('utf8');
    return { ...parseFeed(text, format), digest };
  }
  const job: { format: FeedFormat; unchangedFrom: string | undefined; file?: string; bytes?: Uint8Array } = {
    format,
    unchangedFrom,
  };
  if (!inMemory && 'file' in input) job.file = input.file;
  else job.bytes = await sharedCopy(input);
  // The compiled image runs dist/…/feed-parse-worker.js; the sources run the .ts beside this.
  const file = new URL(
    `./feed-parse-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
    import.meta.url,
  );
  const answer = await runBackgroundJob<
    | { ok: true; unchanged: true }
    | {
        ok: true;
        unchanged: false;
        arrays: RangeArrays;
        entries: number;
        invalidLines: number;
        digest: string;
      }
    | { ok: false; message: string; format: boolean }
  >(file, job);
  if (!answer.ok) throw answer.format ? new FeedFormatError(answer.message) : new Error(answer.message);
  if (answer.unchanged) return undefined;
  return {
    ranges: IpRangeSet.fromArrays(answer.arrays),
    entries: answer.entries,
    invalidLines: answer.invalidLines,
    digest: answer.digest,
  };
}
