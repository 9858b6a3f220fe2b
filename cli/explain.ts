import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { formatIssues } from '../api/validate.ts';
import { ProofOfWork } from '../enforcer/actions/proof-of-work.ts';
import { LoginAttemptReader } from '../enforcer/context/login-attempt.ts';
import { evaluate } from '../enforcer/evaluate.ts';
import { compilePolicy } from '../enforcer/policy/compile.ts';
import { loadPolicy } from '../enforcer/policy/policy-files.ts';
import { MemoryStateStore } from '../enforcer/state/memory-store.ts';

const HELP = `Usage: riskgate explain --policy FILE --request JSON|@FILE [--json]

Scores one described request offline with the enforcer's own code and prints every
contribution, the score, the route's thresholds and the decision.

The request is JSON:
  {"method": "POST", "path": "/transfer", "clientIp": "203.0.113.9",
   "headers": {"authorization": "Bearer …"}, "body": "{\\"username\\": \\"alice\\"}"}
clientIp is the address the connection comes from (default 127.0.0.1); forwarded headers
are read as the policy's trustedProxies say.

Options:
  --json       print the evaluation as JSON
  -h, --help   show this help
`;

const requestSchema = z.strictObject({
  method: z.string().min(1).max(16).default('GET'),
  path: z.string().min(1).max(8192).default('/'),
  clientIp: z.string().default('127.0.0.1'),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().max(65536).optional(),
});

export async function runExplain(args: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args,
      options: {
        policy: { type: 'string' },
        request: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`riskgate explain: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values['help']) {
    process.stdout.write(HELP);
    return 0;
  }
  if (typeof values['policy'] !== 'string' || typeof values['request'] !== 'string') {
    process.stderr.write(`riskgate explain: --policy and --request are required\n\n${HELP}`);
    return 2;
  }
  const requestText = values['request'].startsWith('@')
    ? readFileSync(values['request'].slice(1), 'utf8')
    : values['request'];
  let parsedJson: unknown;
  try {
    parsedJson = JSON.parse(requestText);
  } catch (err) {
    process.stderr.write(`riskgate explain: --request is not JSON: ${(err as Error).message}\n`);
    return 2;
  }
  const described = requestSchema.safeParse(parsedJson);
  if (!described.success) {
    process.stderr.write(`riskgate explain: --request: ${formatIssues(described.error.issues)}\n`);
    return 2;
  }
  const req = described.data;

  let policy: Awaited<ReturnType<typeof compilePolicy>>;
  try {
    const loaded = loadPolicy(values['policy']);
    policy = await compilePolicy(loaded.policy, { source: loaded.file });
  } catch (err) {
    process.stderr.write(`riskgate explain: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v]));
    const evaluation = await evaluate(
      policy,
      {
        requestId: 'explain',
        method: req.method.toUpperCase(),
        url: req.path,
        socketAddress: req.clientIp,
        headers,
        readBody: async () => Buffer.from(req.body ?? ''),
        now: Date.now(),
      },
      { state: new MemoryStateStore(), pow: new ProofOfWork(), logins: new LoginAttemptReader() },
    );
    if (values['json']) {
      const out =
        evaluation.kind === 'refused'
          ? {
              policy: policy.name,
              mode: policy.mode,
              kind: evaluation.kind,
              route: evaluation.route?.name ?? null,
              code: evaluation.code,
              reason: evaluation.reason,
            }
          : {
              policy: policy.name,
              mode: policy.mode,
              kind: evaluation.kind,
              route: evaluation.ctx.route.name,
              sensitivity: evaluation.ctx.route.sensitivity,
              thresholds: evaluation.ctx.route.thresholds,
              client: evaluation.ctx.client.ip,
              subject: evaluation.ctx.subject.id ?? null,
              allowListed: evaluation.allowListed,
              contributions: evaluation.contributions,
              shadowReasons: evaluation.shadowReasons,
              score: evaluation.score,
              decision: evaluation.decision,
              effective: evaluation.effective,
            };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return 0;
    }
    const lines: string[] = [`policy   ${policy.name} (${policy.mode})`];
    if (evaluation.kind === 'refused') {
      lines.push(`route    ${evaluation.route?.name ?? '-'}`);
      lines.push(`refused  ${evaluation.code} (${evaluation.reason}) before scoring`);
    } else {
      const { ctx } = evaluation;
      const t = ctx.route.thresholds;
      lines.push(`route    ${ctx.route.name} (sensitivity ${ctx.route.sensitivity})`);
      lines.push(`client   ${ctx.client.ip}`);
      lines.push(`subject  ${ctx.subject.id ?? 'anonymous'}`);
      if (evaluation.allowListed) lines.push('allowlisted: signals skipped');
      lines.push('contributions:');
      if (evaluation.contributions.length === 0) lines.push('  (none)');
      for (const c of evaluation.contributions)
        lines.push(`  +${String(c.points).padStart(3)}  ${c.code}  ${c.detail}`);
      for (const r of evaluation.shadowReasons) lines.push(`  rule (monitor, not enforced): ${r}`);
      lines.push(`score    ${evaluation.score} / 100`);
      lines.push(`thresholds challenge ${t.challenge}, restrict ${t.restrict}, deny ${t.deny}`);
      lines.push(
        `decision ${evaluation.decision}${evaluation.challengePassed ? ` → allow (${evaluation.challengePassed} met)` : ''}`,
      );
      if (policy.mode === 'monitor') lines.push('(monitor mode: the enforcer would record this and allow)');
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    policy.stop();
  }
}
