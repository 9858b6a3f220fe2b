/**
 * Preloaded into a process under test (`--import`): the first SIGUSR2 starts V8's sampling heap
 * profiler, the second stops it and writes the profile as JSON to HEAP_SAMPLING_FILE. With
 * HEAP_SAMPLING_SURVIVORS=1 it samples only what outlived a young-generation collection — what
 * reached the old generation, whose growth sets how often a mark-compact runs.
 * bench/old-generation-sites.ts reads it.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

const session = new Session();
session.connect();
let sampling = false;
process.on('SIGUSR2', async () => {
  if (!sampling) {
    sampling = true;
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 1024,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: process.env['HEAP_SAMPLING_SURVIVORS'] !== '1',
    });
    return;
  }
  const { profile } = await session.post('HeapProfiler.stopSampling');
  writeFileSync(process.env['HEAP_SAMPLING_FILE']!, JSON.stringify(profile));
});
