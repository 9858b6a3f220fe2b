/** Turns what was sent into per-class results, the per-IP baseline and docs/evaluation.md. */
import { isLegitimate, type Outcome, type Sent, type TrafficClass } from './actors.ts';

const OUTCOMES: Outcome[] = ['allowed', 'challenged', 'restricted', 'denied', 'refused'];

export interface Summary {
  stuffingCaught: number;
  sprayCaught: number;
  takeoverCaught: number;
  rotationCaught: number;
  lockoutAttemptsCaught: number;
  legitChallenged: number;
  legitDenied: number;
  ownerDeniedDuringLockoutAttack: number;
  neighboursDenied: number;
  baselineLeakRatio: number;
  /** Proof-of-work challenges put to people, and how many their clients solved (friction, not denial). */
  peopleChallenges: number;
  peopleChallengesSolved: number;
  /** Median time a person's client spent solving, in this process (node:crypto), ms. */
  peopleSolveMedianMs: number;
  /** Challenges put to attackers, who solve none, and the SHA-256 hashes they would have cost. */
  attackChallenges: number;
  attackWorkHashes: number;
}

/** A proof of work a person's client solved. */
export interface Solve {
  ms: number;
  difficulty: number;
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

const median = (xs: readonly number[]) => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export interface ClassRow {
  cls: TrafficClass;
  total: number;
  counts: Record<Outcome, number>;
  /** Requests that reached the app before the enforcer first stopped one of this class. */
  beforeFirstBlock: number;
}

export function classRows(sent: readonly Sent[]): ClassRow[] {
  const classes = [...new Set(sent.map((s) => s.cls))] as TrafficClass[];
  return classes.map((cls) => {
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
}

/** Share of a class the enforcer stopped (challenged, restricted, denied or refused): it did not reach the app. */
const caughtShare = (r: ClassRow | undefined) =>
  r && r.total > 0 ? (r.total - r.counts.allowed) / r.total : 0;
const share = (r: ClassRow | undefined, o: Outcome) => (r && r.total > 0 ? r.counts[o] / r.total : 0);

export function summarise(sent: readonly Sent[], solves: readonly Solve[]): Summary {
  const rows = classRows(sent);
  const row = (cls: TrafficClass) => rows.find((r) => r.cls === cls);
  const legit = sent.filter((s) => isLegitimate(s.cls));
  const stuffing = sent.filter((s) => s.cls === 'credential stuffing (distributed)');
  const ourLeak = stuffing.filter((s) => s.outcome === 'allowed').length;
  const attacks = sent.filter((s) => !isLegitimate(s.cls) && s.pow !== undefined);
  return {
    stuffingCaught: round(caughtShare(row('credential stuffing (distributed)'))),
    sprayCaught: round(caughtShare(row('low-and-slow spray'))),
    takeoverCaught: round(caughtShare(row('account takeover (impossible travel)'))),
    rotationCaught: round(caughtShare(row('rotating inside one IPv6 /64'))),
    lockoutAttemptsCaught: round(caughtShare(row('lockout attack on members'))),
    legitChallenged: round(
      legit.filter((s) => s.outcome === 'challenged').length / Math.max(1, legit.length),
      5,
    ),
    legitDenied: round(legit.filter((s) => s.outcome === 'denied').length / Math.max(1, legit.length), 5),
    ownerDeniedDuringLockoutAttack: round(
      share(row('legitimate: owners under a lockout attack'), 'denied'),
      5,
    ),
    neighboursDenied: round(share(row('legitimate: neighbours of a noisy address'), 'denied'), 5),
    baselineLeakRatio: round(baselineLeak(stuffing) / Math.max(1, ourLeak), 1),
    peopleChallenges: legit.filter((s) => s.pow !== undefined).length,
    peopleChallengesSolved: solves.length,
    peopleSolveMedianMs: round(median(solves.map((x) => x.ms)), 1),
    attackChallenges: attacks.length,
    attackWorkHashes: attacks.reduce((total, s) => total + 2 ** s.pow!, 0),
  };
}

export function table(sent: readonly Sent[]): string {
  const header = `| traffic class | requests | ${OUTCOMES.join(' | ')} | reached the app | reached it before the first block |`;
  const sep = `|${' --- |'.repeat(OUTCOMES.length + 4)}`;
  const lines = classRows(sent).map(
    (r) =>
      `| ${r.cls} | ${r.total} | ${OUTCOMES.map((o) => r.counts[o]).join(' | ')} | ${r.counts.allowed} | ${isLegitimate(r.cls) ? '—' : r.beforeFirstBlock} |`,
  );
  return [header, sep, ...lines].join('\n');
}

export interface EvaluatedPolicy {
  label: string;
  file: string;
  sent: readonly Sent[];
  solves: readonly Solve[];
  seconds: number;
}

export function report(runs: readonly EvaluatedPolicy[], world: { people: number; days: number }) {
  const shipped = runs[0]!;
  const summary = summarise(shipped.sent, shipped.solves);
  const stuffing = shipped.sent.filter((s) => s.cls === 'credential stuffing (distributed)');
  const sections = runs.map((r) => {
    const s = summarise(r.sent, r.solves);
    return `## ${r.label}: \`${r.file}\`

${table(r.sent)}

\`\`\`json
${JSON.stringify(s)}
\`\`\`
`;
  });
  const markdown = `<!-- Written by \`npm run eval\`. -->
# Detection evaluation

\`\`\`sh
npm run eval        # EVAL_PEOPLE=${world.people} EVAL_DAYS=${world.days}
\`\`\`

A simulated week, played twice over HTTP through a real enforcer with a real Redis, on a
simulated clock: first on **\`examples/quickstart.yaml\` exactly as it ships**, then on a policy
tuned for this shop (\`eval/policy.yaml\`), reported beside it and labelled.

The world: ${world.people} members with realistic user agents (the \`user-agents\` package), homes sampled
from the bundled GeoLite2 City and ASN data, office-hours rhythm, typos, home IPs that change
within their ISP, a few who fly abroad mid-week, and three in ten who are API or mobile clients
sending no device cookie; 20 more members who all live on one big residential network. Against
them: a distributed credential-stuffing wave (common passwords from \`@zxcvbn-ts/language-common\`,
one or two attempts per botnet address across many networks) during which 30 members log in; a
lockout attack — wrong passwords on 10 members' accounts from 300 addresses — while those members
log in from home; a low-and-slow spray (one attempt per address, a new account each, one every
20 seconds at night); one noisy address failing 50 logins on the network where the 20 neighbours
live, who then log in; a bot taking a new address inside one IPv6 /64 for every attempt; account
takeovers with phished passwords from far away, stolen tokens replayed from a new machine,
scrapers walking object ids, and addresses from the policy's threat feed.

People behave as people do: a browser answers a proof-of-work challenge, a person completes MFA
when asked to step up. Bots do neither. Each row counts the first answer to each request;
"caught" below is the share the enforcer stopped (challenged, restricted, denied, refused).

## Summary, on the shipped quickstart policy

| measure | value |
| --- | --- |
| distributed credential stuffing caught | ${(summary.stuffingCaught * 100).toFixed(2)} % |
| low-and-slow spray caught | ${(summary.sprayCaught * 100).toFixed(2)} % |
| impossible-travel takeover requests caught | ${(summary.takeoverCaught * 100).toFixed(2)} % |
| attempts rotating inside one /64 caught | ${(summary.rotationCaught * 100).toFixed(2)} % |
| lockout attempts caught | ${(summary.lockoutAttemptsCaught * 100).toFixed(2)} % |
| legitimate requests challenged | ${(summary.legitChallenged * 100).toFixed(3)} % |
| legitimate requests denied | ${(summary.legitDenied * 100).toFixed(3)} % |
| owners' logins denied during the lockout attack | ${(summary.ownerDeniedDuringLockoutAttack * 100).toFixed(2)} % |
| neighbours' logins denied after the noisy address | ${(summary.neighboursDenied * 100).toFixed(2)} % |
| stuffing attempts a per-IP threshold (fail2ban: 5 failures / 10 min) lets through | ${baselineLeak(stuffing)} of ${stuffing.length} |
| stuffing attempts Riskgate lets through | ${stuffing.filter((s) => s.outcome === 'allowed').length} of ${stuffing.length} |
| baseline leak ÷ Riskgate leak | ${summary.baselineLeakRatio} |
| proof-of-work challenges put to people, solved by their clients | ${summary.peopleChallengesSolved} of ${summary.peopleChallenges} |
| median time a person's client spent on one (this process, node:crypto) | ${summary.peopleSolveMedianMs} ms |
| proof-of-work challenges put to attackers (who solve none) | ${summary.attackChallenges} |
| work those would have cost the attackers | ${summary.attackWorkHashes.toExponential(2)} SHA-256 hashes |

A challenge is friction for a person, not a wall: their client solves it (in a browser, the
challenge page does it unnoticed, docs/challenges.md) and the request goes through; each
challenged request is counted once above, as "challenged", and then completed. Bots solve none,
so every challenge stops them; had they solved, the work above is what it would have cost.

A per-IP threshold never trips on a botnet that spends one or two attempts per address;
Riskgate sees the wave against the route's own baseline. What others can raise — failures on an
account, a network, a route — only ever challenges, and not at all for an owner in a context the
account knows (docs/signals.md, the lockout promise).

${sections.join('\n')}`;
  return { summary, markdown, tables: runs.map((r) => `${r.label}\n${table(r.sent)}`).join('\n\n') };
}
