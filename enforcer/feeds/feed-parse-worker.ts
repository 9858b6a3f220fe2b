/**
 * Parses one feed's text into a range set on a worker thread and hands back the set's arrays,
 * transferred (feed-format.ts parseFeedOffThread starts it). A million lines take a few hundred
 * milliseconds to parse, sort and merge: on the main thread that is a stall of every request.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type FeedFormat, FeedFormatError, parseFeed } from './feed-format.ts';

const { bytes, format } = workerData as { bytes: Uint8Array; format: FeedFormat };
try {
  const parsed = parseFeed(new TextDecoder().decode(bytes), format);
  const arrays = parsed.ranges.toArrays();
  const transfer = [arrays.v4Starts.buffer, arrays.v4Ends.buffer, arrays.v6.buffer];
  if (arrays.v4Index) transfer.push(arrays.v4Index.buffer);
  parentPort!.postMessage(
    { ok: true, arrays, entries: parsed.entries, invalidLines: parsed.invalidLines },
    transfer as ArrayBuffer[],
  );
} catch (err) {
  parentPort!.postMessage({
    ok: false,
    message: (err as Error).message,
    format: err instanceof FeedFormatError,
  });
}
