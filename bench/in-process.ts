/**
 * What the benchmark measures inside one process rather than over HTTP: the decision itself
 * (evaluate() with hrtime around each call, state in memory), the Redis wait of a state read, and
 * the event loop's longest stall while a large policy is compiled and swapped in.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ProofOfWork } from '../enforcer/actions/proof-of-work.ts';
import { LoginAttemptReader } from '../enforcer/context/login-attempt.ts';
import { evaluate } from '../enforcer/evaluate.ts';
import { compilePolicy } from '../enforcer/policy/compile.ts';
import { loadPolicy } from '../enforcer/policy/policy-files.ts';
import { PolicyHolder } from '../enforcer/policy/policy-holder.ts';
import { MemoryStateStore } from '../enforcer/state/memory-store.ts';
import { RedisStateStore } from '../enforcer/state/redis-store.ts';
import { jsonCodec, StatePlan } from '../enforcer/state/slots.ts';
import { zipfPick } from './client-mix.ts';
import { stallBeyondIntervalMs } from './stats.ts';
import { withRoutes } from './workload.ts';

function percentiles(times: number[]): { p50: number; p99: number } {
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length * 0.5)]!, p99: times[Math.floor(times.length * 0.99)]! };
}

/** The decision alone: evaluate() in-process, hrtime around each call, state in memory. */
export async function decisionTimes(policyFile: string, ips: string[], tokens: string[], n: number) {
  const loaded = loadPolicy(policyFile);
  const policy = await compilePolicy(loaded.policy, { source: loaded.file });
  const deps = { state: new MemoryStateStore(), pow: new ProofOfWork(), logins: new LoginAttemptReader() };
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const authed = i % 10 < 3;
    const headers: Record<string, string> = {
      'x-forwarded-for': zipfPick(ips, i),
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0',
    };
    if (authed) {
      headers['authorization'] = `Bearer ${tokens[i % tokens.length]}`;
      headers['x-forwarded-for'] = ips[i % tokens.length]!;
    }
    const t = process.hrtime.bigint();
    await evaluate(
      policy,
      {
        requestId: 'b',
        method: 'GET',
        url: authed ? `/orders/${i % 900}` : `/products/${i % 5000}`,
        socketAddress: '127.0.0.1',
        headers,
        readBody: async () => Buffer.alloc(0),
        now: Date.now(),
      },
      deps,
    );
    // The first pass verifies each token once (then it is cached): count steady state only.
    if (i >= tokens.length * 10) times.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  policy.stop();
  return percentiles(times);
}

/** The Redis round trip of a state read: a new subject each time, so the reuse cache never answers. */
export async function redisWait(url: string, n: number) {
  const store = new RedisStateStore({
    url,
    scope: 'bench/wait',
    local: new MemoryStateStore(),
    commandTimeoutMs: 1000,
  });
  while (!store.connected) await new Promise((r) => setTimeout(r, 20));
  const codec = jsonCodec();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    // A new subject each time: the round trip itself, not the short reuse cache. The slots a
    // token-bearing request of the bench's policy reads: last place, device, profile.
    const plan = new StatePlan();
    plan.record('seen', `wait-${i}`);
    plan.member('dev', `wait-${i}`, 'd1');
    plan.value('prof', `wait-${i}`, codec);
    const t = process.hrtime.bigint();
    await store.read(plan, Date.now());
    times.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  await store.close();
  return percentiles(times);
}

/**
 * The longest the event loop stalled while the enforcer's policy holder, running a large policy
 * (the bench policy with 1,000 routes: its 100,000-entry feed, GeoIP and ASN data, JWT keys),
 * reloaded `reloads` edited versions of it, each parsed, compiled and swapped in, with a timer
 * ticking every millisecond as stand-in traffic. Milliseconds, and the slowest reload's wall time.
 */
export async function policyReloadStall(
  template: string,
  dir: string,
  reloads: number,
): Promise<{ maxStallMs: number; slowestLoadMs: number }> {
  const file = join(dir, 'reloaded-policy.yaml');
  const write = (i: number) => writeFileSync(file, withRoutes(template, 1000 + i));
  write(0);
  const holder = new PolicyHolder(file);
  // The first load happens before the enforcer listens: only reloads meet traffic.
  const first = await holder.reload();
  if (!first.ok) throw new Error(`the bench policy did not load: ${first.error}`);
  const ticker = setInterval(() => {}, 1);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  let slowest = 0;
  for (let i = 1; i <= reloads; i++) {
    write(i);
    const started = performance.now();
    const result = await holder.reload();
    slowest = Math.max(slowest, performance.now() - started);
    if (!result.ok) throw new Error(`the bench policy did not reload: ${result.error}`);
  }
  delay.disable();
  clearInterval(ticker);
  holder.stop();
  return {
    maxStallMs: Math.round(stallBeyondIntervalMs(delay.max / 1e6, 1)),
    slowestLoadMs: Math.round(slowest),
  };
}
