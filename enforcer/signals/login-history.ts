/**
 * Each account's recent successful logins, as the login signals read them: the contexts the
 * owner logs in from — network prefix (IPv4 /24, IPv6 /64), ASN, country, user-agent family and,
 * where the policy reads one, the device — counted, a few values per feature. An attempt from a
 * context the account knows is the owner's; one from a context it does not know gets the friction
 * (Freeman et al., "Who Are You? A Statistical Approach to Measuring User Authenticity", NDSS
 * 2016; Wiefling et al., "Is This Really You?", 2019).
 *
 * Only a success the app confirmed teaches it — never an attempt, never the enforcer's own
 * refusals — so nobody but the owner (or someone holding the password) can change it.
 *
 * Privacy: the account is stored under a SHA-256 of its name (context/login-attempt.ts); values are coarse (a /24 or /64,
 * an ASN, a country code, a browser family) and the device id is hashed; at most 8 values per
 * feature; the record expires 30 days after the account's last successful login.
 */
import { createHash } from 'node:crypto';
import type { RequestContext } from '../context/request-context.ts';
import { agentFamily } from '../context/user-agent.ts';
import { prefixOf } from '../net/ip.ts';
import {
  type Codec,
  jsonCodec,
  type StatePlan,
  type StateView,
  type StateWrites,
  valueAt,
} from '../state/slots.ts';
import type { Population } from './population.ts';

export const LOGIN_FEATURES = ['prefix', 'asn', 'country', 'agent', 'device'] as const;
export type LoginFeature = (typeof LOGIN_FEATURES)[number];
export type LoginContext = Record<LoginFeature, string | undefined>;

/** The slot space of the accounts' login histories. */
const HISTORIES = 'login';
const MAX_VALUES = 8;
const HISTORY_TTL_MS = 30 * 24 * 60 * 60_000;

export interface LoginHistory {
  /** Successful logins learned. */
  n: number;
  /** Epoch ms of the last. */
  at: number;
  /** Per feature: value → count, the most frequent MAX_VALUES kept. */
  v: Record<LoginFeature, Record<string, number>>;
}

export const historyCodec: Codec<LoginHistory> = jsonCodec<LoginHistory>();

const hash = (text: string, length: number) =>
  createHash('sha256').update(text).digest('base64url').slice(0, length);

/** The features of this attempt's context; undefined where unknown. */
export function loginContextOf(ctx: RequestContext): LoginContext {
  const { client, location } = ctx;
  return {
    prefix: client.hidden ? undefined : prefixOf(client.family, client.words, client.family === 4 ? 24 : 64),
    asn: location.asn === undefined ? undefined : String(location.asn),
    country: location.country,
    agent: ctx.userAgent === '' ? undefined : agentFamily(ctx.userAgent),
    device: ctx.device.id === undefined ? undefined : hash(`device\u0000${ctx.device.id}`, 12),
  };
}

/** Plans the read of the attempt's account history; undefined on anything but a login attempt. */
export function planHistory(ctx: RequestContext, plan: StatePlan): number | undefined {
  return ctx.login === undefined ? undefined : plan.value(HISTORIES, ctx.login.accountId, historyCodec);
}

export function historyAt(view: StateView, slot: number | undefined): LoginHistory | undefined {
  return slot === undefined ? undefined : valueAt<LoginHistory>(view, slot);
}

/**
 * Whether the account knows this context as its owner's: its device, its network prefix, or
 * its network and browser together.
 */
export function isKnownContext(history: LoginHistory | undefined, lc: LoginContext): boolean {
  if (history === undefined) return false;
  const v = history.v;
  if (lc.device !== undefined && v.device[lc.device] !== undefined) return true;
  if (lc.prefix !== undefined && v.prefix[lc.prefix] !== undefined) return true;
  return (
    lc.asn !== undefined &&
    lc.agent !== undefined &&
    v.asn[lc.asn] !== undefined &&
    v.agent[lc.agent] !== undefined
  );
}

/** Each feature's log10 ratio is held within ±this: no single feature decides alone. */
const MAX_FEATURE_LOG_RATIO = 1;

/**
 * Σ over features of log10 p(value | everyone) ÷ p(value | this account), the account's
 * distribution shrunk towards everyone's so a young history speaks softly. Above 0: less like
 * the owner than like anyone; below 0: like the owner.
 */
export function logLikelihoodRatio(
  history: LoginHistory,
  lc: LoginContext,
  population: Population<LoginFeature>,
): number {
  let total = 0;
  for (const f of LOGIN_FEATURES) {
    const value = lc[f];
    if (value === undefined) continue;
    const counts = history.v[f];
    let n = 0;
    for (const k in counts) n += counts[k]!;
    if (n === 0) continue;
    const everyone = population.probability(f, value);
    const owner = ((counts[value] ?? 0) + everyone) / (n + 1);
    const ratio = Math.log10(everyone / owner);
    total += Math.max(-MAX_FEATURE_LOG_RATIO, Math.min(MAX_FEATURE_LOG_RATIO, ratio));
  }
  return total;
}

/** The history with one more success in this context: a new object, the read one untouched. */
export function withSuccess(history: LoginHistory | undefined, lc: LoginContext, now: number): LoginHistory {
  const v = {} as LoginHistory['v'];
  for (const f of LOGIN_FEATURES) {
    const counts = { ...(history?.v[f] ?? {}) };
    const value = lc[f];
    if (value !== undefined) {
      counts[value] = (counts[value] ?? 0) + 1;
      const keys = Object.keys(counts);
      if (keys.length > MAX_VALUES) {
        // Forget the least used value (never the one just seen).
        let least = keys[0] === value ? keys[1]! : keys[0]!;
        for (const k of keys) if (k !== value && counts[k]! < counts[least]!) least = k;
        delete counts[least];
      }
    }
    v[f] = counts;
  }
  return { n: (history?.n ?? 0) + 1, at: now, v };
}

/** Learns a success the app confirmed; several signals may ask, the last write is the same. */
export function learnSuccess(
  ctx: RequestContext,
  history: LoginHistory | undefined,
  writes: StateWrites,
): void {
  if (ctx.login === undefined) return;
  writes.value(
    HISTORIES,
    ctx.login.accountId,
    withSuccess(history, loginContextOf(ctx), ctx.now),
    historyCodec,
    HISTORY_TTL_MS,
  );
}
