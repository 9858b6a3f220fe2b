/**
 * `make bench`: one run on this machine, every target measured side by side and interleaved —
 * direct, nginx, Caddy, Caddy + Coraza, bare Node proxies (node:http and fastify, each with
 * undici), the enforcer (monitor, enforce, enforce with Redis, under attack) — closed-loop for
 * throughput (wrk) and open-loop at a fixed rate for latency (vegeta, five runs per target);
 * then CPU per request across fresh starts against one long-lived process and nginx, at 10 and
 * 1,000 routes, the decision in-process, event-loop stalls while a million-entry feed and a
 * 1,000-route policy reload, and the cost curves. Writes bench/results/ and ends with one JSON
 * line. BENCH_SMOKE=1 runs a short version that only proves the harness works.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { NODE_FLAGS, PROCESS_ENV } from '../cli/node-flags.ts';
import { freePort, startRedisServer } from '../test/support/redis-server.ts';
import { measureFeedStallUnderLoad } from './feed-refresh-under-load.ts';
import { runGrpcArm } from './grpc-arm.ts';
import { decisionTimes, redisWait } from './in-process.ts';
import { type Latency, openLoop, openLoopLoad, openLoopTargets, vegetaBinary } from './open-loop.ts';
import { peerBinary, startCaddy } from './peers.ts';
import { measureReloadStallUnderLoad } from './policy-reload-under-load.ts';
import {
  children,
  cpuUs,
  httpGet,
  LOAD_CORE,
  pinned,
  ready,
  rssMb,
  SUT_CORE,
  startEnforcer as startEnforcerIn,
  startNginx,
  startNode as startNodeIn,
  stop,
} from './processes.ts';
import { type Guard, type ResultRow, writeResults } from './results.ts';
import { measureRouteCost } from './routes-arm.ts';
import { measureStartSpread } from './start-spread.ts';
import { median, range } from './stats.ts';
import { writeWorkload } from './workload.ts';

const SMOKE = process.env['BENCH_SMOKE'] === '1';
const ROUNDS = SMOKE ? 1 : Number(process.env['BENCH_ROUNDS'] ?? 3);
const CLOSED_SECONDS = SMOKE ? 1 : 8;
/**
 * Warm-up before each measured run. A fresh Node process keeps getting cheaper for its first
 * ~15 s under this load (the JIT tiers up, the GeoIP pages and per-client caches fill): the
 * enforcer used ~800 µs of CPU per request in its first two seconds and ~230 after twelve, the
 * bare proxy ~370 and ~160 after six, on the same machine. A 6-second warm-up measured the
 * enforcer part-way down that slope (bench/README.md). Processes that live through the run
 * (direct, nginx, Caddy) need only a short one.
 */
const FRESH_WARM_SECONDS = SMOKE ? 1 : 16;
const WARM_SECONDS = SMOKE ? 1 : 4;
/** Open-loop runs per target: a p99 is quoted with its spread over these. */
const LATENCY_ROUNDS = SMOKE ? 1 : 5;
const OPEN_SECONDS = SMOKE ? 1 : 8;
const OPEN_RATE = 1000;
/** The rate actually sent: a smoke run's targets may not keep up with 1,000 rps. */
const OPEN_LOAD_RATE = SMOKE ? 500 : OPEN_RATE;
const CONNECTIONS = 32;
const ROOT = resolve(import.meta.dirname, '..');
const CADDY = 'caddy reverse_proxy';
/** The enforcer's own HTTP layer with nothing in between: the reference for its ratios. */
const BARE = 'bare node:http+undici proxy';
const ENFORCE = 'enforcer enforce (memory)';
const CORAZA = 'caddy + coraza (CRS 4, PL1, blocking)';
const NODE = process.execPath;
const startNode = (script: string, args: string[]) => startNodeIn(ROOT, script, args);

interface Target {
  name: string;
  url: string;
  /** Share of requests from denied addresses. */
  attack: number;
  pid: () => number | undefined;
  /** Its process starts afresh every round (and so warms longer). */
  fresh?: boolean;
}

const nonOk = new Map<string, number>();
const sent = new Map<string, number>();
const cpuPerRequest = new Map<string, number[]>();
/** Each target's RSS read right after each of its measured closed-loop runs. */
const rssUnderLoad = new Map<string, number[]>();

/** One closed-loop run; `measured` runs count in the results, warm-ups do not. */
function wrk(
  target: Target,
  files: Record<string, string>,
  seconds = CLOSED_SECONDS,
  measured = true,
): number {
  const cpuBefore = cpuUs(target.pid());
  const out = execFileSync(
    'taskset',
    [
      '-c',
      LOAD_CORE,
      'wrk',
      '-t1',
      `-c${CONNECTIONS}`,
      `-d${seconds}s`,
      '-s',
      join(ROOT, 'bench/wrk.lua'),
      target.url,
    ],
    { encoding: 'utf8', env: { ...process.env, ...files, RG_ATTACK_SHARE: String(target.attack) } },
  );
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!rps) throw new Error(`wrk output not understood:\n${out}`);
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const total = /(\d+) requests in/.exec(out);
  const cpu = (cpuUs(target.pid()) - cpuBefore) / Number(total?.[1] ?? 1);
  const rss = rssMb(target.pid());
  if (process.env['BENCH_TRACE']) {
    console.error(
      `${target.name}${measured ? '' : ' (warm-up)'}: ${rps[1]} req/s, ${cpu.toFixed(1)} µs CPU/request, RSS ${rss} MB`,
    );
  }
  if (!measured) return Number(rps[1]);
  nonOk.set(target.name, (nonOk.get(target.name) ?? 0) + Number(errors?.[1] ?? 0));
  sent.set(target.name, (sent.get(target.name) ?? 0) + Number(total?.[1] ?? 0));
  cpuPerRequest.set(target.name, [...(cpuPerRequest.get(target.name) ?? []), cpu]);
  rssUnderLoad.set(target.name, [...(rssUnderLoad.get(target.name) ?? []), rss]);
  return Number(rps[1]);
}

/**
 * The cost curves (bench/cost-curves.ts) in a process of their own, with the enforcer's V8 flags:
 * they measure the memory one process holds. Its summary line.
 */
function costCurves(): Record<string, number> {
  const out = execFileSync(NODE, [...NODE_FLAGS, '--expose-gc', join(ROOT, 'bench/cost-curves.ts')], {
    encoding: 'utf8',
    env: { ...process.env, ...PROCESS_ENV },
    maxBuffer: 1 << 26,
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number>;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'riskgate-bench-'));
  try {
    const workload = await writeWorkload(dir, SMOKE ? 500 : 5000);
    const { ips, tokens, bad, files, policy } = workload;
    const vegeta = vegetaBinary(ROOT);

    const redis = await startRedisServer();
    const ports = await Promise.all(Array.from({ length: 14 }, () => freePort()));
    const [
      upA,
      upB,
      nginxPort,
      barePort,
      bareNodePort,
      monPort,
      monAdmin,
      enfPort,
      enfAdmin,
      redisEnfPort,
      redisEnfAdmin,
      caddyPort,
      corazaPort,
    ] = ports;
    const appA = pinned(LOAD_CORE, NODE, [join(ROOT, 'bench/upstream.ts'), String(upA)]);
    const appB = pinned(SUT_CORE, NODE, [join(ROOT, 'bench/upstream.ts'), String(upB)]);
    await Promise.all([ready(appA), ready(appB)]);
    const upstreamUrl = `http://127.0.0.1:${upA}`;
    const nginx = await startNginx(dir, nginxPort!, upA!);
    // The peers users would pick instead: a full run builds them once (a few minutes), a smoke
    // run leaves them out.
    const caddyBin = SMOKE || process.env['BENCH_PEERS'] === '0' ? undefined : peerBinary(ROOT);
    const caddy = caddyBin
      ? await startCaddy(caddyBin, dir, { port: caddyPort!, upstreamPort: upA!, waf: false })
      : undefined;
    const coraza = caddyBin
      ? await startCaddy(caddyBin, dir, { port: corazaPort!, upstreamPort: upA!, waf: true })
      : undefined;
    /*
     * The Node processes under test start afresh for every throughput round. A Node 24 process
     * sometimes JIT-compiles into a slow path of its own process.nextTick (the tick object's
     * literal, ~1 µs instead of ~50 ns): in one start of three to eight, the bare proxy measured
     * 80–92 µs of CPU per request instead of 62–72, for the life of the process. With one process
     * per target for the whole run, such a start skewed every round of it, and the median with
     * them; with a process per round it is one round, and the median sets it aside.
     */
    const startNodeTargets = async () => ({
      bareNode: await startNode('bench/bare-node-proxy.ts', [String(bareNodePort), upstreamUrl]),
      bare: await startNode('bench/bare-proxy.ts', [String(barePort), upstreamUrl]),
      monitor: await startEnforcerIn(ROOT, {
        listen: monPort!,
        admin: monAdmin!,
        upstream: upstreamUrl,
        policy: policy('monitor'),
      }),
      enforce: await startEnforcerIn(ROOT, {
        listen: enfPort!,
        admin: enfAdmin!,
        upstream: upstreamUrl,
        policy: policy('enforce'),
      }),
      enforceRedis: await startEnforcerIn(ROOT, {
        listen: redisEnfPort!,
        admin: redisEnfAdmin!,
        upstream: upstreamUrl,
        policy: policy('enforce'),
        redis: redis.url,
      }),
    });
    let current = await startNodeTargets();

    const url = (port: number | undefined) => `http://127.0.0.1:${port}`;
    const targets: Target[] = [
      { name: 'direct', url: url(upB), attack: 0, pid: () => appB.pid },
      { name: 'nginx proxy_pass', url: url(nginxPort), attack: 0, pid: () => nginx.pid },
      ...(caddy && coraza
        ? [
            { name: CADDY, url: url(caddyPort), attack: 0, pid: () => caddy.pid },
            { name: CORAZA, url: url(corazaPort), attack: 0, pid: () => coraza.pid },
            {
              name: `${CORAZA} under attack (50%)`,
              url: url(corazaPort),
              attack: 0.5,
              pid: () => coraza.pid,
            },
          ]
        : []),
      // The enforcers run right after the bare proxy: the ratios pair runs seconds apart, so
      // the machine's drift between rounds divides out.
      {
        name: 'bare fastify+undici proxy',
        url: url(barePort),
        attack: 0,
        pid: () => current.bare.pid,
        fresh: true,
      },
      {
        name: BARE,
        url: url(bareNodePort),
        attack: 0,
        pid: () => current.bareNode.pid,
        fresh: true,
      },
      {
        name: ENFORCE,
        url: url(enfPort),
        attack: 0,
        pid: () => current.enforce.pid,
        fresh: true,
      },
      {
        name: 'enforcer enforce (Redis)',
        url: url(redisEnfPort),
        attack: 0,
        pid: () => current.enforceRedis.pid,
        fresh: true,
      },
      {
        name: 'enforcer monitor (memory)',
        url: url(monPort),
        attack: 0,
        pid: () => current.monitor.pid,
        fresh: true,
      },
      {
        name: 'enforcer under attack (50% denied)',
        url: url(enfPort),
        attack: 0.5,
        pid: () => current.enforce.pid,
      },
      {
        name: 'enforcer deny path (100% denied)',
        url: url(enfPort),
        attack: 1,
        pid: () => current.enforce.pid,
      },
    ];

    const throughput = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    const latency = new Map<string, Latency[]>(targets.map((t) => [t.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      if (round > 0) {
        await Promise.all(Object.values(current).map(stop));
        current = await startNodeTargets();
      }
      if (process.env['BENCH_TRACE'])
        console.error(
          `round ${round + 1}: ${JSON.stringify(Object.fromEntries(Object.entries(current).map(([k, c]) => [k, c.pid])))}`,
        );
      for (const t of targets) {
        // Warm each target just before it is measured (JIT, token cache, GeoIP cache): no target
        // pays for a fresh start or for its place in the order.
        wrk(t, files, t.fresh ? FRESH_WARM_SECONDS : WARM_SECONDS, false);
        throughput.get(t.name)!.push(wrk(t, files));
      }
    }
    // Latency rounds come after every throughput round: in runs that interleaved them, the bare
    // proxy and the direct upstream (but neither nginx nor the enforcers) used ~25% more CPU per
    // request in every throughput round after the first open-loop phase, which flattered the
    // enforcer's ratios.
    // A target that cannot serve the open-loop rate (Caddy + Coraza saturates near 600 req/s)
    // would queue work that the targets measured after it pay for: it gets no latency figure.
    const keepsUp = (t: Target) => median(throughput.get(t.name)!) >= OPEN_RATE * 1.5;
    const openLoopFiles = new Map(
      targets
        .filter((x) => x.attack < 1 && keepsUp(x))
        .map((t) => [t, openLoopTargets(dir, t, { ips, tokens, bad })]),
    );
    for (let round = 0; round < LATENCY_ROUNDS; round++) {
      for (const [t, file] of openLoopFiles)
        latency.get(t.name)!.push(openLoop(vegeta, file, OPEN_LOAD_RATE, OPEN_SECONDS));
    }
    const rssAtEnd = rssMb(current.enforce.pid);
    if (process.env['BENCH_TRACE']) {
      // A diagnostic: its failure must not lose the run.
      await httpGet(`http://127.0.0.1:${enfAdmin}/metrics`).then(
        ({ body: m }) =>
          console.error(
            m
              .split('\n')
              .filter((l) => /heap_size|external_memory|resident/.test(l) && !l.startsWith('#'))
              .join('\n'),
          ),
        (err: Error) => console.error(`enforcer metrics not read: ${err.message}`),
      );
    }
    await Promise.all(Object.values(current).map(stop));
    const grpc = await runGrpcArm(ROOT, dir, {
      policy: policy('enforce'),
      clientIp: ips[0]!,
      rounds: ROUNDS,
      seconds: CLOSED_SECONDS,
      warmSeconds: FRESH_WARM_SECONDS,
    });
    const spreadDir = join(dir, 'spread');
    mkdirSync(spreadDir);
    const spread = await measureStartSpread(ROOT, {
      dir: spreadDir,
      upstreamPort: upA!,
      policy: policy('enforce'),
      files,
      starts: SMOKE ? 2 : 8,
      warmSeconds: FRESH_WARM_SECONDS,
      seconds: SMOKE ? 1 : 5,
    });
    const routeCost = await measureRouteCost(ROOT, {
      upstreamPort: upA!,
      workload,
      rounds: ROUNDS,
      warmSeconds: FRESH_WARM_SECONDS,
      seconds: CLOSED_SECONDS,
    });
    const decision = await decisionTimes(policy('enforce'), ips, tokens, SMOKE ? 2000 : 30_000);
    const redisRead = await redisWait(redis.url, SMOKE ? 500 : 5000);
    // The load both stall measures put on the enforcer: the clean mix at a fixed rate.
    const stallLoad = (url: string, seconds: number) =>
      openLoopLoad(
        vegeta,
        openLoopTargets(dir, { url, attack: 0 }, { ips, tokens, bad }),
        OPEN_LOAD_RATE,
        seconds,
      );
    const feedStall = await measureFeedStallUnderLoad(ROOT, {
      dir,
      upstreamPort: upA!,
      workload,
      entries: SMOKE ? 200_000 : 1_000_000,
      warmSeconds: FRESH_WARM_SECONDS,
      seconds: SMOKE ? 4 : 20,
      load: stallLoad,
    });
    const stallMs = feedStall.withRefreshesMs;
    const reload = await measureReloadStallUnderLoad(ROOT, {
      dir,
      upstreamPort: upA!,
      workload,
      warmSeconds: FRESH_WARM_SECONDS,
      seconds: SMOKE ? 4 : 20,
      load: stallLoad,
    });
    await (redis as unknown as { destroy(): Promise<void> }).destroy();
    const curves = costCurves();

    const rows: ResultRow[] = targets.map((t) => {
      const lat = latency.get(t.name)!;
      return {
        target: t.name,
        rps: Math.round(median(throughput.get(t.name)!)),
        runs: throughput.get(t.name)!.map(Math.round),
        cpuUsPerRequest: +median(cpuPerRequest.get(t.name) ?? [0]).toFixed(1),
        /** RSS right after each measured run, median (the attack runs share the enforce process). */
        rssMb: median(rssUnderLoad.get(t.name) ?? [0]),
        /** Answers that were not 2xx or 3xx: denials on the attack targets, errors anywhere else. */
        non2xxPercent: +((100 * (nonOk.get(t.name) ?? 0)) / Math.max(1, sent.get(t.name) ?? 0)).toFixed(2),
        p50Us: lat.length ? Math.round(median(lat.map((l) => l.p50))) : undefined,
        p99Us: lat.length ? Math.round(median(lat.map((l) => l.p99))) : undefined,
        /** max − min of the p99 over the open-loop runs. */
        p99SpreadUs: lat.length ? Math.round(range(lat.map((l) => l.p99))) : undefined,
        p999Us: lat.length ? Math.round(median(lat.map((l) => l.p999))) : undefined,
      };
    });
    const bareName = BARE;
    const enforceName = ENFORCE;
    const by = (name: string) => rows.find((r) => r.target === name)!;
    // Share of the attack half a target stopped: the mixed run's non-2xx, less what the same
    // target refuses of the legitimate half (its share in its own run without attacks).
    const attackBlockedPercent = (attacked: string, clean: string) =>
      +((by(attacked).non2xxPercent - by(clean).non2xxPercent * 0.5) / 0.5).toFixed(2);
    const bareRow = by(bareName);
    const enforceRow = by(enforceName);
    // Ratios are taken within each round (runs seconds apart), then the median over rounds.
    const pairedRatio = (numerator: string, denominator: string, of: Map<string, number[]> = throughput) => {
      const a = of.get(numerator)!;
      const b = of.get(denominator)!;
      return +median(a.map((x, i) => x / b[i]!)).toFixed(3);
    };
    const summary = {
      /** Against the bare node:http proxy: the enforcer's own HTTP layer with nothing in between. */
      throughputRatio: pairedRatio(enforceName, bareName),
      redisThroughputRatio: pairedRatio('enforcer enforce (Redis)', bareName),
      /** Against the bare fastify proxy, the reference of earlier runs. */
      throughputRatioVsFastifyProxy: pairedRatio(enforceName, 'bare fastify+undici proxy'),
      nginxThroughputRatio: pairedRatio(enforceName, 'nginx proxy_pass'),
      /** The same comparison by CPU time per request: bare ÷ enforcer, less disturbed by the load generator. */
      cpuRatio: pairedRatio(bareName, enforceName, cpuPerRequest),
      /** Medians of five open-loop runs each at 1,000 rps. */
      addedP99UsVsBareProxyMedian: enforceRow.p99Us! - bareRow.p99Us!,
      addedP99UsVsDirect: enforceRow.p99Us! - by('direct').p99Us!,
      p99SpreadUs: enforceRow.p99SpreadUs!,
      bareP99SpreadUs: bareRow.p99SpreadUs!,
      p999Us: enforceRow.p999Us!,
      bareP999Us: bareRow.p999Us!,
      decisionP50Us: +decision.p50.toFixed(1),
      decisionP99Us: +decision.p99.toFixed(1),
      redisWaitP50Us: +redisRead.p50.toFixed(1),
      redisWaitP99Us: +redisRead.p99.toFixed(1),
      /**
       * Memory under load: the median of the enforcer's RSS right after each of its measured runs.
       * A single read at the end of the run, after the open-loop phase, moved between 120 and 173
       * MB across runs of the same code, as V8 had or had not shrunk the heap yet.
       */
      rssMb: median(rssUnderLoad.get(enforceName)!),
      rssAtEndMb: rssAtEnd,
      denyPathSpeedup: pairedRatio('enforcer deny path (100% denied)', enforceName),
      /** The enforcer's own longest event-loop stall (beyond its 1 ms timer) at 1k rps while a 1M-entry feed refreshed every 3 s. */
      maxEventLoopStallMsDuringFeedRefresh: stallMs,
      /** ... under the same load, the feed left alone. */
      maxEventLoopDelayMsUnderLoad: feedStall.controlMs,
      /** ... of a process doing nothing on the same core meanwhile: the machine's own share. */
      maxEventLoopStallMsMachineControl: feedStall.machineMs,
      /** ... of the bare node:http proxy under the same load: any Node proxy on this core. */
      maxEventLoopStallMsBareProxy: feedStall.bareProxyMs,
      /** The enforcer's own longest stall at 1k rps while its 1,000-route policy was rewritten every 3 s. */
      maxEventLoopStallMsDuringPolicyReload: reload.withReloadsMs,
      /** ... under the same load, the policy left alone. */
      maxEventLoopStallMsPolicyReloadControl: reload.controlMs,
      policyReloadsUnderLoad: reload.reloads,
      /** CPU per request over fresh starts and within one long-lived process: max ÷ min − 1. */
      cpuSpreadAcrossStarts: spread.cpuSpreadAcrossStarts,
      cpuSpreadWithinProcess: spread.cpuSpreadWithinProcess,
      nginxCpuSpread: spread.nginxCpuSpread,
      cpuPerRequestAt10Routes: routeCost.cpuPerRequestAt10Routes,
      cpuPerRequestAt1000Routes: routeCost.cpuPerRequestAt1000Routes,
      routeCpuRatio1000To10: routeCost.routeCpuRatio1000To10,
      rssMbAt1000Routes: routeCost.rssMbAt1000Routes,
      /** A process holding the bench policy after deciding for 1,000,000 distinct clients (cost curves). */
      rssMbAt1MClients: curves['rssMbAtMostClients']!,
      ...(caddy && coraza
        ? {
            /** The enforcer's CPU per request ÷ each peer's, paired per round. */
            caddyCpuRatio: pairedRatio(enforceName, CADDY, cpuPerRequest),
            corazaCpuRatio: pairedRatio(enforceName, CORAZA, cpuPerRequest),
            /** Share of the attack mix (known-bad addresses with SQLi/XSS strings) each stopped. */
            corazaAttackBlockedPercent: attackBlockedPercent(`${CORAZA} under attack (50%)`, CORAZA),
          }
        : {}),
      nginxCpuRatio: pairedRatio(enforceName, 'nginx proxy_pass', cpuPerRequest),
      enforcerAttackBlockedPercent: attackBlockedPercent('enforcer under attack (50% denied)', ENFORCE),
      grpcThroughputRatio: grpc.throughputRatio,
      grpcCpuRatio: grpc.cpuRatio,
    };
    rows.push(...grpc.rows);

    const guards: Guard[] = [
      [
        'throughput, memory ÷ bare node:http proxy',
        '≥ 0.80',
        summary.throughputRatio,
        summary.throughputRatio >= 0.8,
      ],
      [
        'throughput, Redis ÷ bare node:http proxy',
        '≥ 0.72',
        summary.redisThroughputRatio,
        summary.redisThroughputRatio >= 0.72,
      ],
      ['RSS under load, MB', '≤ 150', summary.rssMb, summary.rssMb <= 150],
      [
        `longest event-loop stall at 1k rps while a 1M-entry feed is replaced every 3 s, ms (same load without refreshes: ${feedStall.controlMs}; the bare node:http proxy under that load: ${feedStall.bareProxyMs}; an idle process on that core: ${feedStall.machineMs}; parse jobs raised to normal priority: ${feedStall.jobsRaised})`,
        '≤ 10',
        stallMs,
        stallMs <= 10,
      ],
      [
        `longest event-loop stall at 1k rps while a 1,000-route policy is rewritten every 3 s, ms (${reload.reloads} reloads; same load without reloads: ${reload.controlMs})`,
        '≤ 10',
        reload.withReloadsMs,
        reload.withReloadsMs <= 10,
      ],
      [
        'CPU spread across starts (within one process + 0.05)',
        `≤ ${(spread.cpuSpreadWithinProcess + 0.05).toFixed(3)}`,
        spread.cpuSpreadAcrossStarts,
        spread.cpuSpreadAcrossStarts <= spread.cpuSpreadWithinProcess + 0.05,
      ],
      [
        'CPU per request at 1,000 routes ÷ at 10',
        '≤ 1.10',
        routeCost.routeCpuRatio1000To10,
        routeCost.routeCpuRatio1000To10 <= 1.1,
      ],
      ...(caddy && coraza
        ? ([
            [
              'CPU per request ÷ Caddy reverse_proxy',
              '≤ 1.2',
              summary.caddyCpuRatio!,
              summary.caddyCpuRatio! <= 1.2,
            ],
            [
              'CPU per request ÷ Caddy + Coraza',
              '≤ 0.2',
              summary.corazaCpuRatio!,
              summary.corazaCpuRatio! <= 0.2,
            ],
          ] as Guard[])
        : []),
    ];

    writeResults(ROOT, {
      smoke: SMOKE,
      rows,
      summary,
      guards,
      spread,
      routeCost,
      setup: {
        connections: CONNECTIONS,
        closedSeconds: CLOSED_SECONDS,
        warmSeconds: WARM_SECONDS,
        freshWarmSeconds: FRESH_WARM_SECONDS,
        openRate: OPEN_RATE,
        openSeconds: OPEN_SECONDS,
        rounds: ROUNDS,
        latencyRounds: LATENCY_ROUNDS,
        clients: ips.length,
      },
    });
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
