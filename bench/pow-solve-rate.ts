/**
 * `node bench/pow-solve-rate.ts`: how fast the challenge page's solver runs in a real headless
 * Chromium (Debian's) and in Node (the client helper's worker thread), as SHA-256 hashes per
 * second, and what that makes the expected time per difficulty (2^difficulty hashes on average).
 * docs/challenges.md quotes its output.
 */
import { createHash } from 'node:crypto';
import { chromium } from 'playwright-core';
import { POW_WORKER_SOURCE } from '../enforcer/actions/pow-worker.ts';

const TRIES = 1 << 18;

const browser = await chromium.launch({
  executablePath: process.env['RISKGATE_CHROMIUM'] ?? '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
const page = await browser.newPage();
await page.setContent('<!doctype html><title>rate</title>');
// Impossible difficulty: the worker reports progress every 4096 tries until stopped.
const browserRate = (await page.evaluate(
  `new Promise((resolve) => {
    const worker = new Worker(URL.createObjectURL(new Blob([${JSON.stringify(POW_WORKER_SOURCE)}])));
    let started;
    worker.onmessage = (e) => {
      if (e.data.tries === 4096) started = performance.now();
      if (e.data.tries >= ${TRIES}) {
        worker.terminate();
        resolve(((e.data.tries - 4096) / (performance.now() - started)) * 1000);
      }
    };
    worker.postMessage({ challenge: 'rate', difficulty: 64 });
  })`,
)) as number;
await browser.close();

const started = performance.now();
for (let i = 0; i < TRIES; i++)
  createHash('sha256')
    .update(`rate:${i.toString(36)}`)
    .digest();
const nodeRate = (TRIES / (performance.now() - started)) * 1000;

const ms = (rate: number, d: number) => ((2 ** d / rate) * 1000).toFixed(d < 14 ? 1 : 0);
console.log(`Chromium ${Math.round(browserRate)} hashes/s; Node ${Math.round(nodeRate)} hashes/s`);
console.log('| difficulty | expected hashes | Chromium page, ms | Node helper, ms |');
console.log('| ---: | ---: | ---: | ---: |');
for (const d of [8, 10, 12, 14, 16, 18, 20, 22, 24]) {
  console.log(`| ${d} | ${2 ** d} | ${ms(browserRate, d)} | ${ms(nodeRate, d)} |`);
}
