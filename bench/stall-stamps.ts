/**
 * Preloaded into a process under test (`--import`): stamps every event-loop stall longer than
 * STALL_STAMPS_MS (default 8) with the monotonic clock, in µs, and writes the stamps as JSON to
 * STALL_STAMPS_FILE when the process ends. The same clock as `perf -k CLOCK_MONOTONIC`, so
 * stall-threads.ts can match each stall to what the scheduler ran meanwhile.
 */
import { writeFileSync } from 'node:fs';

const longerThanUs = Number(process.env['STALL_STAMPS_MS'] ?? 8) * 1000;
const file = process.env['STALL_STAMPS_FILE'];
const stamps: [number, number][] = [];
const nowUs = () => Number(process.hrtime.bigint() / 1000n);
let last = nowUs();
setInterval(() => {
  const now = nowUs();
  if (now - last > longerThanUs) stamps.push([last, now]);
  last = now;
}, 1).unref();
process.on('exit', () => {
  if (file) writeFileSync(file, JSON.stringify(stamps));
});
