/**
 * `node bench/cost-curves.ts`: how the enforcer's cost grows with the work it is given, measured
 * in one process on the bench policy (bench/policy.yaml, every signal on): the decision's time
 * (evaluate(), median µs, state in memory) as routes grow (10, 100, 1,000), as the threat feed
 * grows (1k, 100k, 1M entries) with the memory the feed holds, and as distinct clients grow (10k,
 * 100k, 1M) with the process's memory — bounded by the state's own limits — and the Redis bytes
 * each tracked subject costs. Writes bench/results/cost-curves.md and cost-curves.svg.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ProofOfWork } from '../enforcer/actions/proof-of-work.ts';
import { LoginAttemptReader } from '../enforcer/context/login-attempt.ts';
import { evaluate, type Scored } from '../enforcer/evaluate.ts';
import { recordOutcome } from '../enforcer/outcome/record-outcome.ts';
import { compilePolicy } from '../enforcer/policy/compile.ts';
import type { CompiledPolicy } from '../enforcer/policy/compiled-policy.ts';
import { loadPolicy } from '../enforcer/policy/policy-files.ts';
import { MemoryStateStore } from '../enforcer/state/memory-store.ts';
import { RedisStateStore } from '../enforcer/state/redis-store.ts';
import type { StateStore } from '../enforcer/state/state-store.ts';
import { startRedisServer } from '../test/support/redis-server.ts';
import { demoToken } from '../test/support/tokens.ts';
import { median } from './stats.ts';
import { withRoutes } from './workload.ts';

const ROOT = resolve(import.meta.dirname, '..');
const SMOKE = process.env['BENCH_SMOKE'] === '1';
const dir = mkdtempSync(join(tmpdir(), 'riskgate-curves-'));
cpSync(join(ROOT, 'examples/keys'), join(dir, 'keys'), { recursive: true });
const template = readFileSync(join(ROOT, 'bench/policy.yaml'), 'utf8').replace('MODE', 'enforce');

/** A client address for request i, spread over the IPv4 space outside 203.0.113/24. */
const addressOf = (i: number) => `${11 + ((i >>> 16) % 180)}.${(i >>> 8) & 255}.${i & 255}.${1 + (i % 250)}`;

/** A feed of single addresses spread over 200.0.0.0–223.255.255.255 (no client's), seldom adjacent. */
function writeFeed(entries: number): void {
  const lines: string[] = ['203.0.113.0/24'];
  for (let i = 1; i < entries; i++) {
    const a = 200 * 2 ** 24 + ((i * 2654435761) % (24 * 2 ** 24));
    lines.push(
      `${Math.floor(a / 2 ** 24)}.${Math.floor(a / 65536) & 255}.${Math.floor(a / 256) & 255}.${a & 255}`,
    );
  }
  writeFileSync(join(dir, 'feed.txt'), `${lines.join('\n')}\n`);
}

function writePolicy(routes: number): string {
  const file = join(dir, `policy-${routes}.yaml`);
  writeFileSync(file, withRoutes(template, routes));
  return file;
}

async function compiled(file: string): Promise<CompiledPolicy> {
  const loaded = loadPolicy(file);
  const policy = await compilePolicy(loaded.policy, { source: loaded.file });
  for (const f of policy.feeds) await f.refresh();
  return policy;
}

/** Median µs of evaluate() over `n` requests; `path(i)` and `client(i)` shape them. */
async function decisionUs(
  policy: CompiledPolicy,
  n: number,
  path: (i: number) => string,
  client: (i: number) => string,
  state: StateStore = new MemoryStateStore(),
  headersOf: (i: number) => Record<string, string> = () => ({}),
): Promise<number> {
  const deps = { state, pow: new ProofOfWork(), logins: new LoginAttemptReader() };
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    const e = await evaluate(
      policy,
      {
        requestId: 'c',
        method: 'GET',
        url: path(i),
        socketAddress: '127.0.0.1',
        headers: {
          'x-forwarded-for': client(i),
          'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0',
          ...headersOf(i),
        },
        readBody: async () => Buffer.alloc(0),
        now: Date.now(),
      },
      deps,
    );
    times.push(Number(process.hrtime.bigint() - t) / 1000);
    if (e.kind === 'scored')
      recordOutcome(policy, e as Scored, e.effective, { status: 200, bytes: 512, blocked: false }, state);
    if (i % 2000 === 1999) await new Promise((r) => setImmediate(r));
  }
  return +median(times).toFixed(2);
}

const mb = (bytes: number) => Math.round(bytes / 104857.6) / 10;
function settle(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function main() {
  const n = SMOKE ? 3000 : 30_000;
  writeFeed(100_000);

  // A pass that counts for nothing: the first measured policy must not pay for the JIT's warm-up.
  const warm = await compiled(writePolicy(10));
  await decisionUs(
    warm,
    n,
    (i) => `/products/${i}`,
    (i) => addressOf(i % 5000),
  );
  warm.stop();

  // Clients first: the process's RSS after them is a process that has held only the bench policy.
  const clients: { x: number; us: number; heapMb: number; rssMb: number }[] = [];
  for (const count of SMOKE ? [10_000] : [10_000, 100_000, 1_000_000]) {
    const policy = await compiled(writePolicy(10));
    settle();
    const before = process.memoryUsage().heapUsed;
    const state = new MemoryStateStore();
    const us = await decisionUs(policy, count, (i) => `/products/${i % 5000}`, addressOf, state);
    settle();
    // What the state (and every cache on the path) holds for them: bounded by their limits.
    // And the whole process's resident memory with them: the GeoIP pages, the policy, every cache.
    clients.push({
      x: count,
      us,
      heapMb: Math.max(0, mb(process.memoryUsage().heapUsed - before)),
      rssMb: Math.round(process.memoryUsage().rss / 1048576),
    });
    policy.stop();
  }

  const routes: { x: number; us: number }[] = [];
  for (const count of [10, 100, 1000]) {
    const policy = await compiled(writePolicy(count));
    routes.push({
      x: count,
      us: await decisionUs(
        policy,
        n,
        (i) => (count > 4 ? `/api/v1/r${i % (count - 4)}/${i}` : `/products/${i}`),
        (i) => addressOf(i % 5000),
      ),
    });
    policy.stop();
  }

  const feeds: { x: number; us: number; mb: number }[] = [];
  for (const entries of SMOKE ? [1000, 100_000] : [1000, 100_000, 1_000_000]) {
    writeFeed(entries);
    const policy = await compiled(writePolicy(10));
    // What the feed holds: its range set's typed arrays (built on a parser thread, moved here).
    const arrays = policy.feeds[0]!.ranges.toArrays();
    const held =
      arrays.v4Starts.byteLength +
      arrays.v4Ends.byteLength +
      (arrays.v4Index?.byteLength ?? 0) +
      arrays.v6.byteLength;
    feeds.push({
      x: entries,
      us: await decisionUs(
        policy,
        n,
        (i) => `/products/${i}`,
        (i) => addressOf(i % 5000),
      ),
      mb: mb(held),
    });
    policy.stop();
  }
  writeFeed(100_000);

  // Redis bytes per tracked subject: token holders browsing, learned into Redis.
  const redis = await startRedisServer();
  const subjects = SMOKE ? 200 : 5000;
  const tokens = await Promise.all(
    Array.from({ length: subjects }, (_, i) => demoToken({ sub: `curve-${i}` })),
  );
  const store = new RedisStateStore({
    url: redis.url,
    scope: 'bench/curves',
    local: new MemoryStateStore(),
    commandTimeoutMs: 2000,
  });
  while (!store.connected) await new Promise((r) => setTimeout(r, 20));
  const client = (store as unknown as { redis: { info(s: string): Promise<string> } }).redis;
  const used = async () => Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]);
  const policy = await compiled(writePolicy(10));
  const base = await used();
  await decisionUs(
    policy,
    subjects * 3,
    (i) => `/orders/${i}`,
    (i) => addressOf(i % subjects),
    store,
    (i) => ({ authorization: `Bearer ${tokens[i % subjects]}`, cookie: `device_id=d${i % subjects}` }),
  );
  await new Promise((r) => setTimeout(r, 500));
  const bytesPerSubject = Math.round(((await used()) - base) / subjects);
  policy.stop();
  await store.close();
  await (redis as unknown as { destroy(): Promise<void> }).destroy();

  const summary = {
    decisionUsAt10Routes: routes[0]!.us,
    decisionUsAt1000Routes: routes.at(-1)!.us,
    routeCostRatio1000To10: +(routes.at(-1)!.us / routes[0]!.us).toFixed(3),
    decisionUsAt1MFeedEntries: feeds.at(-1)!.us,
    feedMbAt1MEntries: feeds.at(-1)!.mb,
    heapMbAtMostClients: clients.at(-1)!.heapMb,
    /** The process's RSS after deciding for the most distinct clients (1M in a full run). */
    rssMbAtMostClients: clients.at(-1)!.rssMb,
    redisBytesPerSubject: bytesPerSubject,
  };
  writeResults(routes, feeds, clients, bytesPerSubject, summary);
  rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify(summary));
}

/** A small line chart: one panel per curve, log-scaled x, the decision's µs on y. */
function svg(panels: { title: string; points: { x: number; us: number }[] }[]): string {
  const W = 260;
  const H = 170;
  const pad = 36;
  const parts: string[] = [];
  panels.forEach((panel, k) => {
    const ox = k * (W + 20);
    const xs = panel.points.map((p) => Math.log10(p.x));
    const maxY = Math.max(...panel.points.map((p) => p.us)) * 1.3;
    const px = (x: number) =>
      ox + pad + ((x - xs[0]!) / Math.max(1e-9, xs.at(-1)! - xs[0]!)) * (W - pad - 10);
    const py = (y: number) => H - pad + 10 - (y / maxY) * (H - pad - 20);
    parts.push(`<text x="${ox + W / 2}" y="14" text-anchor="middle" font-size="12">${panel.title}</text>`);
    parts.push(`<line x1="${ox + pad}" y1="${py(0)}" x2="${ox + W - 10}" y2="${py(0)}" stroke="#888"/>`);
    parts.push(`<line x1="${ox + pad}" y1="${py(0)}" x2="${ox + pad}" y2="${py(maxY)}" stroke="#888"/>`);
    parts.push(
      `<polyline fill="none" stroke="#0969da" stroke-width="2" points="${panel.points.map((p, i) => `${px(xs[i]!).toFixed(1)},${py(p.us).toFixed(1)}`).join(' ')}"/>`,
    );
    panel.points.forEach((p, i) => {
      parts.push(`<circle cx="${px(xs[i]!).toFixed(1)}" cy="${py(p.us).toFixed(1)}" r="3" fill="#0969da"/>`);
      parts.push(
        `<text x="${px(xs[i]!).toFixed(1)}" y="${(py(p.us) - 7).toFixed(1)}" text-anchor="middle" font-size="10">${p.us} µs</text>`,
      );
      parts.push(
        `<text x="${px(xs[i]!).toFixed(1)}" y="${H - 8}" text-anchor="middle" font-size="10">${p.x.toLocaleString('en')}</text>`,
      );
    });
  });
  const width = panels.length * (W + 20);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H}" font-family="sans-serif" viewBox="0 0 ${width} ${H}"><rect width="100%" height="100%" fill="#fff"/>${parts.join('')}</svg>\n`;
}

function writeResults(
  routes: { x: number; us: number }[],
  feeds: { x: number; us: number; mb: number }[],
  clients: { x: number; us: number; heapMb: number; rssMb: number }[],
  bytesPerSubject: number,
  summary: Record<string, number>,
): void {
  const name = SMOKE ? '.smoke-cost-curves' : 'cost-curves';
  writeFileSync(
    join(ROOT, `bench/results/${name}.svg`),
    svg([
      { title: 'decision µs by routes', points: routes },
      { title: 'by threat-feed entries', points: feeds },
      { title: 'by distinct clients', points: clients },
    ]),
  );
  const md = `<!-- Written by \`node bench/cost-curves.ts\`${SMOKE ? ' (smoke run)' : ''}. -->
# Cost curves

${new Date().toISOString()}, Node ${process.version}, one process, the bench policy (every signal on), state in
memory; the decision is evaluate() with learning after it, median µs.

![decision time as the work grows](${name}.svg)

| routes | decision µs |
| ---: | ---: |
${routes.map((r) => `| ${r.x} | ${r.us} |`).join('\n')}

| threat-feed entries | decision µs | memory the feed holds, MB |
| ---: | ---: | ---: |
${feeds.map((f) => `| ${f.x.toLocaleString('en')} | ${f.us} | ${f.mb} |`).join('\n')}

| distinct clients (one request each) | decision µs | heap they hold, MB | process RSS after them, MB |
| ---: | ---: | ---: | ---: |
${clients.map((c) => `| ${c.x.toLocaleString('en')} | ${c.us} | ${c.heapMb} | ${c.rssMb} |`).join('\n')}

Redis bytes per tracked subject (a token holder browsing with a device cookie, everything it
teaches): ${bytesPerSubject}.

\`\`\`json
${JSON.stringify(summary, null, 2)}
\`\`\`
`;
  writeFileSync(join(ROOT, `bench/results/${name}.md`), md);
}

await main();
process.exit(0);
