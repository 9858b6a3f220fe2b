/**
 * Run pinned to one core. Keeps the main thread busy as a flood of requests does — turns of 5 ms,
 * never idle — while a background job needs the same core, and prints how the job ended.
 *   job:  runBackgroundJob of cpu-job.ts needing 300 ms of CPU, looked at after 500 ms
 *   feed: parseFeedOffThread of a 100,000-line list handed over as bytes (a download's path)
 *   policy: loadPolicyOffThread of the quickstart policy grown past 16 KiB (parsed off-thread)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFeedOffThread } from '../../feeds/feed-format.ts';
import { loadPolicyOffThread, OFF_THREAD_BYTES } from '../../policy/policy-files.ts';
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
} else if (process.argv[2] === 'policy') {
  const dir = mkdtempSync(join(tmpdir(), 'flood-policy-'));
  const quickstart = readFileSync(join(import.meta.dirname, '../../../examples/quickstart.yaml'), 'utf8');
  const file = join(dir, 'policy.yaml');
  writeFileSync(file, `${quickstart}${'# an edit made under a flood\n'.repeat(OFF_THREAD_BYTES / 20)}`);
  answer = { name: (await loadPolicyOffThread(file)).policy.metadata.name };
  rmSync(dir, { recursive: true, force: true });
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
