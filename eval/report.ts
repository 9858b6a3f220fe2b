/** Turns what was sent into per-class results, the per-IP baseline and docs/evaluation.md. */
import type { Outcome, Sent, TrafficClass } from './actors.ts';

const OUTCOMES: Outcome[] = ['allowed', 'challenged', 'restricted', 'denied', 'refused'];

export interface Summary {
  stuffingCaught: number;
  takeoverCaught: number;
  legitChallenged: number;
  legitDenied: number;
  baselineLeakRatio: number;
}

/**
 * What a per-IP threshold lets through (fail2ban's defaults: 5 failures in 10 minutes ban the
 * address for 10 minutes), on the same login attempts.
 */
export function baselineLeak(
  attempts: readonly Sent[],
  maxRetry = 5,
  findTimeMs = 600_000,
  banMs = 600_000,
): number {
  const failures = new Map<string, number[]>();
  const bannedUntil = new Map<string, number>();
  let leaked = 0;
  for (const a of attempts) {
    const ip = a.loginIp!;
    if ((bannedUntil.get(ip) ?? 0) > a.at) continue;
    leaked++;
    const recent = (failures.get(ip) ?? []).filter((t) => t > a.at - findTimeMs);
    recent.push(a.at);
    failures.set(ip, recent);
    if (recent.length >= maxRetry) bannedUntil.set(ip, a.at + banMs);
  }
  return leaked;
}

const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;

export function report(sent: readonly Sent[], run: { people: number; days: number; seconds: number }) {
  const classes = [...new Set(sent.map((s) => s.cls))] as TrafficClass[];
  const rows = classes.map((cls) => {
    const mine = sent.filter((s) => s.cls === cls).sort((a, b) => a.at - b.at);
    const counts = Object.fromEntries(
      OUTCOMES.map((o) => [o, mine.filter((s) => s.outcome === o).length]),
    ) as Record<Outcome, number>;
    const firstBlock = mine.findIndex((s) => s.outcome !== 'allowed');
    return {
      cls,
      total: mine.length,
      counts,
      beforeFirstBlock: firstBlock === -1 ? mine.length : firstBlock,
    };
  });
  const row = (cls: TrafficClass) => rows.find((r) => r.cls === cls)!;
  const caught = (cls: TrafficClass) => {
    const r = row(cls);
    return r.total === 0 ? 0 : (r.counts.challenged + r.counts.denied) / r.total;
  };
  const legit = row('legitimate');
  const stuffing = sent.filter((s) => s.cls === 'credential stuffing (distributed)');
  const ourLeak = stuffing.filter((s) => s.outcome === 'allowed').length;
  const theirLeak = baselineLeak(stuffing);
  const summary: Summary = {
    stuffingCaught: round(caught('credential stuffing (distributed)')),
    takeoverCaught: round(caught('account takeover (impossible travel)')),
    legitChallenged: round(legit.counts.challenged / legit.total, 5),
    legitDenied: round(legit.counts.denied / legit.total, 5),
    baselineLeakRatio: round(theirLeak / Math.max(1, ourLeak), 1),
  };

  const header = `| traffic class | requests | ${OUTCOMES.join(' | ')} | reached the app before the first block |`;
  const sep = `|${' --- |'.repeat(OUTCOMES.length + 3)}`;
  const lines = rows.map(
    (r) =>
      `| ${r.cls} | ${r.total} | ${OUTCOMES.map((o) => r.counts[o]).join(' | ')} | ${r.cls === 'legitimate' ? '—' : r.beforeFirstBlock} |`,
  );
  const table = [header, sep, ...lines].join('\n');
  const markdown = `<!-- Written by \`npm run eval\`. -->
# Detection evaluation

\`\`\`sh
npm run eval        # EVAL_PEOPLE=${run.people} EVAL_DAYS=${run.days}
\`\`\`

A simulated week: ${run.people} people with realistic user agents (the \`user-agents\` package),
homes sampled from the bundled GeoLite2 City and ASN data, office-hours rhythm, typos, home IPs
that change within their ISP, and a few who fly abroad mid-week; against them a distributed
credential-stuffing wave (common passwords from \`@zxcvbn-ts/language-common\`, one or two
attempts per botnet address across many networks), account takeovers with phished passwords
from far away, stolen tokens replayed from a new machine, scrapers walking object ids, and
known-bad addresses from a feed. Everything goes over HTTP through a real enforcer
(\`eval/policy.yaml\`) with a real Redis, on a simulated clock (${run.seconds.toFixed(0)} s of wall time).

People behave as people do: a browser answers a proof-of-work challenge, a person completes MFA
when asked to step up. Bots do neither. "challenged" and "denied" count the first answer to each
request.

${table}

## Summary

| measure | value |
| --- | --- |
| distributed credential stuffing challenged or denied | ${(summary.stuffingCaught * 100).toFixed(2)} % |
| impossible-travel takeover requests challenged or denied | ${(summary.takeoverCaught * 100).toFixed(2)} % |
| legitimate requests challenged | ${(summary.legitChallenged * 100).toFixed(3)} % |
| legitimate requests denied | ${(summary.legitDenied * 100).toFixed(3)} % |
| stuffing attempts a per-IP threshold (fail2ban: 5 failures / 10 min) lets through | ${theirLeak} of ${stuffing.length} |
| stuffing attempts Riskgate lets through | ${ourLeak} of ${stuffing.length} |
| baseline leak ÷ Riskgate leak | ${summary.baselineLeakRatio} |

A per-IP threshold never trips on a botnet that spends one or two attempts per address;
Riskgate's global and account views see the wave as a whole.

\`\`\`json
${JSON.stringify(summary)}
\`\`\`
`;
  return { summary, table, markdown };
}
