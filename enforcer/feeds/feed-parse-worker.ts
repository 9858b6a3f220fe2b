/**
 * Reads (a file) or takes (bytes) one feed's list, and unless it is the list already running
 * (same digest), parses it into a range set on a worker thread and hands back the set's arrays,
 * transferred (feed-format.ts parseFeedOffThread starts it). A million lines take a few hundred
 * milliseconds to parse, sort and merge: on the main thread that is a stall of every request.
 */
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { type FeedFormat, FeedFormatError, feedDigest, parseFeed } from './feed-format.ts';

const job = workerData as { bytes?: Uint8Array; file?: string; format: FeedFormat; unchangedFrom?: string };
function answer(): void {
  const bytes = job.bytes ?? readFileSync(job.file!);
  const digest = feedDigest(bytes);
  if (digest === job.unchangedFrom) {
    parentPort!.postMessage({ ok: true, unchanged: true });
    return;
  }
  const parsed = parseFeed(new TextDecoder().decode(bytes), job.format);
  const arrays = parsed.ranges.toArrays();
  const transfer = [arrays.v4Starts.buffer, arrays.v4Ends.buffer, arrays.v6.buffer];
  if (arrays.v4Index) transfer.push(arrays.v4Index.buffer);
  parentPort!.postMessage(
    {
      ok: true,
      unchanged: false,
      arrays,
      entries: parsed.entries,
      invalidLines: parsed.invalidLines,
      digest,
    },
    transfer as ArrayBuffer[],
  );
}

try {
  answer();
} catch (err) {
  parentPort!.postMessage({
    ok: false,
    message: (err as Error).message,
    format: err instanceof FeedFormatError,
  });
}
