/**
 * What the benchmark measures inside one process rather than over HTTP: the decision itself
 * (evaluate() with hrtime around each call, state in memory) and the Redis wait of a state read.
 */
import { ProofOfWork } from '../enforcer/actions/proof-of-work.ts';
import { LoginAttemptReader } from '../enforcer/context/login-attempt.ts';
import { evaluate, type RequestInput } from '../enforcer/evaluate.ts';
import { compilePolicy } from '../enforcer/policy/compile.ts';
import { loadPolicy } from '../enforcer/policy/policy-files.ts';
import { MemoryStateStore } from '../enforcer/state/memory-store.ts';
import { RedisStateStore } from '../enforcer/state/redis-store.ts';
import { jsonCodec, StatePlan } from '../enforcer/state/slots.ts';
import { zipfPick } from './client-mix.ts';

function percentiles(times: number[]): { p50: number; p99: number } {
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length * 0.5)]!, p99: times[Math.floor(times.length * 0.99)]! };
}

/**
 * The `i`th request of the bench's mix as evaluate() takes it: 30% carry a token, each from its
 * subject's home address; the rest browse from Zipf-weighted addresses.
 */
export function mixRequest(i: number, ips: string[], tokens: string[]): RequestInput {
  const authed = i % 10 < 3;
  const headers: Record<string, string> = {
    'x-forwarded-for': authed ? ips[i % tokens.length]! : zipfPick(ips, i),
    'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0',
  };
  if (authed) headers['authorization'] = `Bearer ${tokens[i % tokens.length]}`;
  return {
    requestId: 'b',
    method: 'GET',
    url: authed ? `/orders/${i % 900}` : `/products/${i % 5000}`,
    socketAddress: '127.0.0.1',
    headers,
    readBody: async () => Buffer.alloc(0),
    now: Date.now(),
  };
}

/** The decision alone: evaluate() in-process, hrtime around each call, state in memory. */
export async function decisionTimes(policyFile: string, ips: string[], tokens: string[], n: number) {
  const loaded = loadPolicy(policyFile);
  const policy = await compilePolicy(loaded.policy, { source: loaded.file });
  const deps = { state: new MemoryStateStore(), pow: new ProofOfWork(), logins: new LoginAttemptReader() };
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const input = mixRequest(i, ips, tokens);
    const t = process.hrtime.bigint();
    await evaluate(policy, input, deps);
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
