/**
 * `make demo`: the shop app, the enforcer (bin/riskgate enforce, a real process) with
 * examples/quickstart.yaml, and ~20 seconds of legitimate and attack traffic; then a table of
 * traffic class × outcome and the latency the enforcer adds. Leaves nothing running.
 */
import { spawn } from 'node:child_process';
import { request } from 'undici';
import { freePort } from '../test/support/free-port.ts';
import { demoToken } from '../test/support/tokens.ts';
import { startShopApp } from './shop-app.ts';
import { type ClassResult, playTraffic } from './traffic.ts';

const seconds = Number(process.env['DEMO_SECONDS'] ?? 20);

async function waitReady(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await request(url);
      await res.body.dump();
      if (res.statusCode === 200) return true;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function latency(url: string, path: string, headers: Record<string, string>) {
  const res = await request(`${url}${path}`, { headers });
  await res.body.dump();
}

async function measureAddedLatency(appUrl: string, enforcerUrl: string) {
  const direct: number[] = [];
  const proxied: number[] = [];
  const headers = { 'x-forwarded-for': '100.64.1.1' };
  for (let i = 0; i < 50; i++) {
    await latency(appUrl, '/products/1', headers);
    await latency(enforcerUrl, '/products/1', headers);
  }
  for (let i = 0; i < 1000; i++) {
    // interleaved, so both see the same machine noise
    let t = performance.now();
    await latency(appUrl, `/products/${i}`, headers);
    direct.push(performance.now() - t);
    t = performance.now();
    await latency(enforcerUrl, `/products/${i}`, headers);
    proxied.push(performance.now() - t);
  }
  direct.sort((a, b) => a - b);
  proxied.sort((a, b) => a - b);
  return {
    p50: { direct: percentile(direct, 50), enforcer: percentile(proxied, 50) },
    p99: { direct: percentile(direct, 99), enforcer: percentile(proxied, 99) },
  };
}

function table(results: ClassResult[]): string {
  const cols = ['allowed', 'challenged', 'restricted', 'denied', 'refused', 'error'] as const;
  const header = ['traffic class', ...cols, 'solved', 'reached app'];
  const rows = results.map((r) => [
    r.name,
    ...cols.map((c) => String(r.counts[c])),
    String(r.solved),
    String(r.reachedApp),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

async function main(): Promise<number> {
  const app = await startShopApp();
  const [trafficPort, adminPort] = [await freePort(), await freePort()];
  const enforcerUrl = `http://127.0.0.1:${trafficPort}`;
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const enforcer = spawn(
    process.execPath,
    [
      'cli/main.ts',
      'enforce',
      '--policy',
      'examples/quickstart.yaml',
      '--upstream',
      app.url,
      '--listen',
      `127.0.0.1:${trafficPort}`,
      '--admin',
      `127.0.0.1:${adminPort}`,
      '--log-allow-sample',
      '0',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, RISKGATE_LOG_LEVEL: 'warn' } },
  );
  let enforcerLog = '';
  enforcer.stderr!.on('data', (d: Buffer) => {
    enforcerLog += d.toString();
  });
  const stop = async () => {
    if (enforcer.exitCode === null) {
      enforcer.kill('SIGTERM');
      await new Promise((r) => enforcer.once('exit', r));
    }
    await app.close();
  };
  try {
    if (!(await waitReady(`${adminUrl}/readyz`, 20_000))) {
      console.error(`demo: the enforcer did not become ready\n${enforcerLog}`);
      return 1;
    }
    console.log(
      `Riskgate demo: shop app ${app.url}, enforcer ${enforcerUrl} (policy examples/quickstart.yaml)`,
    );
    console.log(`Playing ${seconds}s of legitimate users and attacks…\n`);
    const results = await playTraffic({
      enforcerUrl,
      durationMs: seconds * 1000,
      token: (sub) => demoToken({ sub, scope: 'payments:write' }),
    });
    console.log(table(results));
    console.log(
      '\nsolved: challenges the client answered (browsers run the proof of work; the bots here do not).',
    );
    const l = await measureAddedLatency(app.url, enforcerUrl);
    const us = (ms: number) => `${Math.round(ms * 1000)} µs`;
    console.log(
      `\nAdded latency (1000 sequential GETs, interleaved): p50 ${us(l.p50.enforcer - l.p50.direct)} ` +
        `(direct ${us(l.p50.direct)}, through the enforcer ${us(l.p50.enforcer)}), ` +
        `p99 ${us(l.p99.enforcer - l.p99.direct)} (direct ${us(l.p99.direct)}, enforcer ${us(l.p99.enforcer)})`,
    );
    const errors = results.reduce((n, r) => n + r.counts.error, 0);
    if (errors > 0) {
      console.error(`demo: ${errors} requests failed`);
      return 1;
    }
    return 0;
  } finally {
    await stop();
  }
}

process.exitCode = await main();
