/**
 * Run pinned to one core. Keeps the main thread busy as a flood of requests does — turns of 5 ms,
 * never idle — while a background job needs the same core, and prints how the job ended.
 *   job:  runBackgroundJob of cpu-job.ts needing 300 ms of CPU, looked at after 500 ms
 *   feed: parseFeedOffThread of a 100,000-line list handed over as bytes (a download's path)
 */
import { parseFeedOffThread } from '../../feeds/feed-format.ts';
import { backgroundThreads, runBackgroundJob } from '../background-worker.ts';

let flooding = true;
const turn = () => {
  const until = performance.now() + 5;
  while (performance.now() < until);
  if (flooding) setImmediate(turn);
};
turn();

const started = performance.now();
let answer: unknown;
if (process.argv[2] === 'feed') {
  const lines = Array.from(
    { length: 100_000 },
    (_, i) => `${20 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24`,
  );
  const parsed = await parseFeedOffThread(Buffer.from(`${lines.join('\n')}\n`), 'plain');
  answer = {
    entries: parsed.entries,
    listed: parsed.ranges.hasText('20.1.2.3'),
    unlisted: parsed.ranges.hasText('30.1.2.3'),
  };
} else {
  answer = await runBackgroundJob(
    new URL('./cpu-job.ts', import.meta.url),
    { cpuMs: 300 },
    { starvedAfterMs: 500 },
  );
}
flooding = false;
process.stdout.write(
  JSON.stringify({ answer, ...backgroundThreads, seconds: (performance.now() - started) / 1000 }),
);
