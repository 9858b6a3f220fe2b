/**
 * The benchmark's gRPC arm: unary calls over HTTP/2 in cleartext (h2load, closed loop, pinned to
 * the load core) to a bare fastify HTTP/2 proxy and to the enforcer (`--upstream-protocol h2c`,
 * the bench policy), both in front of the same gRPC app, interleaved round by round.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../test/support/redis-server.ts';
import { cpuUs, LOAD_CORE, pinned, ready, rssMb, startEnforcer, startNode, stop } from './processes.ts';
import type { ResultRow } from './results.ts';
import { median } from './stats.ts';

export interface GrpcArm {
  rows: ResultRow[];
  /** Enforcer ÷ bare proxy, req/s, paired per round, median. */
  throughputRatio: number;
  /** Bare proxy ÷ enforcer, CPU per call, paired per round, median. */
  cpuRatio: number;
}

function h2load(url: string, body: string, clientIp: string, seconds: number, pid: number | undefined) {
  const cpuBefore = cpuUs(pid);
  const out = execFileSync(
    'taskset',
    [
      '-c',
      LOAD_CORE,
      'h2load',
      '-c',
      '8',
      '-m',
      '16',
      '-t',
      '1',
      '-D',
      String(seconds),
      '-d',
      body,
      '-H',
      'content-type: application/grpc',
      '-H',
      'te: trailers',
      '-H',
      `x-forwarded-for: ${clientIp}`,
      `${url}/bench.Echo/Unary`,
    ],
    { encoding: 'utf8' },
  );
  // h2load gives the time in ms under a second: "finished in 999.93ms, …".
  const rps = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out);
  const done = /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded/.exec(out);
  if (!rps || !done) throw new Error(`h2load output not understood:\n${out}`);
  const calls = Number(done[1]);
  return {
    rps: Number(rps[1]),
    cpu: (cpuUs(pid) - cpuBefore) / Math.max(1, calls),
    rss: rssMb(pid),
    // h2load's "succeeded" is a 2xx or 3xx answer.
    failed: calls - Number(done[2]),
    calls,
  };
}

export async function runGrpcArm(
  root: string,
  dir: string,
  options: { policy: string; clientIp: string; rounds: number; seconds: number; warmSeconds: number },
): Promise<GrpcArm> {
  const [appPort, barePort, enfPort, enfAdmin] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const app = pinned(LOAD_CORE, process.execPath, [join(root, 'bench/grpc-upstream.ts'), String(appPort)]);
  await ready(app);
  const appUrl = `http://127.0.0.1:${appPort}`;
  const body = join(dir, 'grpc-request.bin');
  const payload = Buffer.from(JSON.stringify({ text: 'hello' }));
  writeFileSync(body, Buffer.concat([Buffer.from([0, 0, 0, 0, payload.length]), payload]));

  const names = {
    bare: 'bare fastify HTTP/2 proxy (gRPC unary)',
    enforcer: 'enforcer enforce (gRPC unary, memory)',
  };
  const runs = { bare: [] as ReturnType<typeof h2load>[], enforcer: [] as ReturnType<typeof h2load>[] };
  for (let round = 0; round < options.rounds; round++) {
    const bare = await startNode(root, 'bench/bare-h2-proxy.ts', [String(barePort), appUrl]);
    const enforcer = await startEnforcer(root, {
      listen: enfPort,
      admin: enfAdmin,
      upstream: appUrl,
      policy: options.policy,
      args: ['--upstream-protocol', 'h2c'],
    });
    for (const [key, port, pid] of [
      ['bare', barePort, bare.pid],
      ['enforcer', enfPort, enforcer.pid],
    ] as const) {
      const url = `http://127.0.0.1:${port}`;
      h2load(url, body, options.clientIp, options.warmSeconds, pid);
      runs[key].push(h2load(url, body, options.clientIp, options.seconds, pid));
    }
    await Promise.all([stop(bare), stop(enforcer)]);
  }
  await stop(app);

  const row = (key: 'bare' | 'enforcer'): ResultRow => {
    const r = runs[key];
    const calls = r.reduce((a, x) => a + x.calls, 0);
    return {
      target: names[key],
      rps: Math.round(median(r.map((x) => x.rps))),
      runs: r.map((x) => Math.round(x.rps)),
      cpuUsPerRequest: +median(r.map((x) => x.cpu)).toFixed(1),
      rssMb: median(r.map((x) => x.rss)),
      non2xxPercent: +((100 * r.reduce((a, x) => a + x.failed, 0)) / Math.max(1, calls)).toFixed(2),
      p50Us: undefined,
      p99Us: undefined,
    };
  };
  return {
    rows: [row('bare'), row('enforcer')],
    throughputRatio: +median(runs.enforcer.map((e, i) => e.rps / runs.bare[i]!.rps)).toFixed(3),
    cpuRatio: +median(runs.bare.map((b, i) => b.cpu / runs.enforcer[i]!.cpu)).toFixed(3),
  };
}
