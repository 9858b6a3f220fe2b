/**
 * Every reason code the enforcer writes into a decision log, `riskgate explain` and the metrics,
 * in one registry: each signal's own (signals/index.ts), the rules that refuse a request before
 * it is scored, and the markers of how a decision was taken. docs/signals.md is generated from it
 * (`make crds`), and a test fails when the code uses a reason code this registry does not hold.
 */
import { SIGNALS } from './signals/index.ts';
import type { SignalName } from './signals/signal.ts';

export interface RuleReason {
  code: string;
  when: string;
}

/** Rules, not risk: a request refused before any score. */
export const RULE_REASONS: readonly RuleReason[] = [
  { code: 'auth.required', when: 'the route requires authentication and none came' },
  { code: 'auth.insufficient_scope', when: 'the subject lacks a scope or claim the route requires' },
  { code: 'auth.token_expired', when: 'the token is past `exp` (beyond the clock skew)' },
  { code: 'auth.token_not_yet_valid', when: 'the token is before `nbf`' },
  { code: 'auth.token_signature', when: 'the signature does not verify' },
  { code: 'auth.token_issuer', when: 'no configured issuer matches `iss`' },
  { code: 'auth.token_audience', when: '`aud` names none of the issuer’s audiences' },
  { code: 'auth.token_algorithm', when: 'the algorithm is not one the issuer allows' },
  { code: 'auth.token_unknown_key', when: 'no key of the issuer has the token’s `kid`' },
  { code: 'auth.token_claims', when: 'a required claim is missing or malformed' },
  {
    code: 'auth.token_malformed',
    when: 'not a compact JWS, or a header that claims Bearer and holds no token',
  },
  { code: 'auth.token_oversized', when: 'the token is larger than the verifier accepts' },
  { code: 'auth.keys_unavailable', when: 'the issuer’s keys could not be fetched' },
  { code: 'auth.api_key_unknown', when: 'an API key matches no stored hash' },
  {
    code: 'request.bad_target',
    when: 'the request target cannot be read unambiguously ([security](security.md#one-view-of-the-request))',
  },
  {
    code: 'request.bad_forwarded',
    when: 'a trusted proxy’s forwarding header holds a hop that is not an address',
  },
  { code: 'request.uri_too_long', when: 'the request target is over 8 KiB' },
  { code: 'request.body_too_large', when: 'a login body is over its limit, compressed or decompressed' },
  {
    code: 'request.login_ambiguous',
    when: 'a login attempt names its account twice, in two cases, as an array, or differently in body, query and header',
  },
  { code: 'request.body_timeout', when: 'a login body did not arrive within its deadline (10 s)' },
  {
    code: 'request.login_bodies_over_budget',
    when: 'the login bodies being read would hold more than 16 MiB, or one client more than 512 KiB',
  },
  {
    code: 'request.login_body_unreadable',
    when: 'a login body does not decode or parse as its media type says',
  },
  {
    code: 'request.login_body_unsupported',
    when: 'a login body in a content coding, media type or charset the enforcer does not read',
  },
  { code: 'request.method_not_allowed', when: 'the route refuses methods it does not list' },
  {
    code: 'state.unavailable',
    when: 'a `failMode: closed` route needed shared state and Redis was unavailable',
  },
];

/** How a decision was taken, beside its contributions. */
export const MARKERS: readonly RuleReason[] = [
  { code: 'state.degraded', when: 'shared state was unavailable and local state decided (`failMode: open`)' },
  { code: 'allowlist', when: 'the client or subject is allow-listed: no signal was consulted' },
];

const signalOf = new Map<string, SignalName>(SIGNALS.flatMap((d) => d.reasons.map((r) => [r.code, d.name])));

/** The signal a reason code belongs to: the `signal` label of riskgate_signal_hits_total. */
export function signalOfReason(code: string): SignalName | 'unknown' {
  return signalOf.get(code) ?? 'unknown';
}

/** Every registered code. */
export function reasonCodes(): string[] {
  return [...signalOf.keys(), ...RULE_REASONS.map((r) => r.code), ...MARKERS.map((r) => r.code)];
}

const cell = (text: string) => text.replaceAll('|', '\\|');

/** The reason-code tables of docs/signals.md. */
export function reasonTables(): string {
  const signalRows = SIGNALS.flatMap((d) =>
    d.reasons.map(
      (r) =>
        `| \`${r.code}\` | ${d.name} | ${cell(r.points)} | ${r.lever ? 'lever: challenge at most' : 'evidence'} | ${cell(r.when)} |`,
    ),
  );
  return [
    '| reason code | signal | points | may decide | fires when |',
    '| --- | --- | --- | --- | --- |',
    ...signalRows,
    '',
    'Rules, not risk — refused before any score, logged with these codes:',
    '',
    '| reason code | when |',
    '| --- | --- |',
    ...RULE_REASONS.map((r) => `| \`${r.code}\` | ${cell(r.when)} |`),
    '',
    'Markers of how a decision was taken:',
    '',
    '| reason code | when |',
    '| --- | --- |',
    ...MARKERS.map((r) => `| \`${r.code}\` | ${cell(r.when)} |`),
  ].join('\n');
}

/** docs/signals.md with its generated tables replaced. */
export function withReasonTables(doc: string): string {
  const start = '<!-- reasons:start -->';
  const end = '<!-- reasons:end -->';
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from === -1 || to === -1) throw new Error('docs/signals.md has no reasons markers');
  return `${doc.slice(0, from + start.length)}\n${reasonTables()}\n${doc.slice(to)}`;
}
