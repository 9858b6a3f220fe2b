/**
 * How much of the decision's cost is the CPU's caches — a diagnostic, not part of `make bench`.
 * The bench's request mix runs through `evaluate()` and learning in a loop on one pinned core,
 * as `decisionP50Us` does, but between requests a buffer of FLUSH_KB is walked (a cache line at
 * a time), as two requests' worth of Node's HTTP machinery would walk other memory: what the
 * decision and the learning then cost is what they cost with their code and data evicted.
 * Sizes alternate over ROUNDS; each line is one size in one fresh process.
 *
 *   node bench/cold-decision.ts           # FLUSH_KB (default "0,512,4096"), ROUNDS (2)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_FLAGS } from '../cli/node-flags.ts';
import { ProofOfWork } from '../enforcer/actions/proof-of-work.ts';
import { LoginAttemptReader } from '../enforcer/context/login-attempt.ts';
import { evaluate } from '../enforcer/evaluate.ts';
import { recordOutcome } from '../enforcer/outcome/record-outcome.ts';
import { compilePolicy } from '../enforcer/policy/compile.ts';
import { loadPolicy } from '../enforcer/policy/policy-files.ts';
import { MemoryStateStore } from '../enforcer/state/memory-store.ts';
import { mixRequest } from './in-process.ts';
import { SUT_CORE } from './processes.ts';
import { writeWorkload } from './workload.ts';

const REQUESTS = 60_000;
/** The first pass verifies each token once and warms the JIT: measured after these. */
const WARM = 20_000;

async function measure(flushKb: number): Promise<{ evaluateUs: number; learnUs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'riskgate-cold-'));
  const { ips, tokens, policy: policyFile } = await writeWorkload(dir, 5000);
  const loaded = loadPolicy(policyFile('enforce'));
  const policy = await compilePolicy(loaded.policy, { source: loaded.file });
  const deps = { state: new MemoryStateStore(), pow: new ProofOfWork(), logins: new LoginAttemptReader() };
  const other = new Uint8Array(flushKb * 1024);
  let sink = 0;
  const flush = () => {
    for (let j = 0; j < other.length; j += 64) sink += other[j]!++;
  };
  let evaluateNs = 0n;
  let learnNs = 0n;
  for (let i = 0; i < REQUESTS; i++) {
    const input = mixRequest(i, ips, tokens);
    flush();
    const t0 = process.hrtime.bigint();
    let evaluation = evaluate(policy, input, deps);
    const t1 = process.hrtime.bigint();
    if (evaluation instanceof Promise) evaluation = await evaluation;
    if (evaluation.kind !== 'scored') continue;
    flush();
    const t2 = process.hrtime.bigint();
    recordOutcome(
      policy,
      evaluation,
      evaluation.effective,
      { status: 200, bytes: 1024, blocked: false },
      deps.state,
    );
    const t3 = process.hrtime.bigint();
    if (i >= WARM) {
      evaluateNs += t1 - t0;
      learnNs += t3 - t2;
    }
  }
  policy.stop();
  if (sink === -1) console.log(sink);
  const n = BigInt(REQUESTS - WARM);
  return { evaluateUs: Number(evaluateNs / n) / 1000, learnUs: Number(learnNs / n) / 1000 };
}

const one = process.env['COLD_DECISION_ONE'];
if (one !== undefined) {
  console.log(JSON.stringify(await measure(Number(one))));
  process.exit(0);
}

const sizes = (process.env['FLUSH_KB'] ?? '0,512,4096').split(',').map(Number);
const rounds = Number(process.env['ROUNDS'] ?? 2);
console.log('| flushed between requests, KB | evaluate µs / request | learning µs / request |');
console.log('| ---: | ---: | ---: |');
for (let r = 0; r < rounds; r++) {
  for (const kb of sizes) {
    const out = execFileSync(
      'taskset',
      ['-c', SUT_CORE, process.execPath, ...NODE_FLAGS, import.meta.filename],
      {
        encoding: 'utf8',
        env: { ...process.env, COLD_DECISION_ONE: String(kb) },
      },
    );
    const { evaluateUs, learnUs } = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number>;
    console.log(`| ${kb} | ${evaluateUs!.toFixed(2)} | ${learnUs!.toFixed(2)} |`);
  }
}
