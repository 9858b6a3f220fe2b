/**
 * Credential stuffing on login routes, counted so that nobody can turn it against an owner.
 *
 * - Only the app refusing a password the enforcer let through is a failed login. An attempt the
 *   enforcer refused itself counts against the client that keeps hammering (its address, or its
 *   IPv6 prefix) and towards the route's wave — never against the account, the password pair or
 *   the network it named, so challenging a wave cannot feed on itself.
 * - Views of the attempt itself — its client, the accounts its client tried, its password pair
 *   from a context the account does not know — are evidence and may deny.
 * - Views others can raise — failures on the account, from the network, on the route — are
 *   levers: they challenge at most (decision/decide.ts), and not at all when the attempt comes
 *   from a context the account knows as its owner's (login-history.ts).
 * - A wave is measured against the route's own baseline (failed or refused attempts per window,
 *   learned by each enforcer while no wave is on) as well as the absolute ceiling: a low-and-slow
 *   spray against a quiet route is seen.
 *
 * Each view says nothing below half its threshold and reaches full weight at it, so a user's
 * typo never counts.
 */
import { parseDuration } from '../../api/duration.ts';
import type { RequestContext } from '../context/request-context.ts';
import { countAt, type StatePlan, type StateView, type StateWrites } from '../state/slots.ts';
import { type Ewma, updateEwma } from './behaviour/profile.ts';
import {
  historyAt,
  isKnownContext,
  type LoginHistory,
  learnSuccess,
  loginContextOf,
  planHistory,
} from './login-history.ts';
import {
  type CompiledSignal,
  type Contribution,
  defineSignal,
  type Outcome,
  type ReasonCode,
} from './signal.ts';

export const MAX_ACCOUNTS_PER_CLIENT = 256;
/** The baseline speaks after this many samples (one a minute at most): an hour of logins. */
const BASELINE_SAMPLES = 60;
const SAMPLE_EVERY_MS = 60_000;

const CLIENT: ReasonCode = {
  code: 'auth.credential_stuffing.ip',
  points: 'up to weight (½ from a context the account knows)',
  when: 'failed or refused attempts from this client — its IPv4 address or IPv6 prefix — in the window',
};
const ACCOUNTS: ReasonCode = {
  code: 'auth.credential_stuffing.accounts_per_ip',
  points: 'up to weight',
  when: 'distinct accounts tried from this client',
};
const CREDENTIAL: ReasonCode = {
  code: 'auth.credential_stuffing.credential',
  points: 'up to weight (0 from a context the account knows)',
  when: 'this account + password pair failed before (a salted hash is counted, never the password)',
};
const ACCOUNT: ReasonCode = {
  code: 'auth.credential_stuffing.account',
  points: 'up to weight (0 from a context the account knows)',
  when: 'the app refused passwords for this account',
  lever: true,
};
const ASN: ReasonCode = {
  code: 'auth.credential_stuffing.asn',
  points: 'up to weight (0 from a context the account knows)',
  when: 'the app refused passwords tried from this network',
  lever: true,
};
const WAVE: ReasonCode = {
  code: 'auth.credential_stuffing.wave',
  points: 'up to 0.6 × weight (0 from a context the account knows)',
  when: 'failed or refused attempts on the route far above its learned baseline (`wave.factor` ×, at least `wave.floor`)',
  lever: true,
};
const GLOBAL: ReasonCode = {
  code: 'auth.credential_stuffing.global',
  points: 'up to 0.6 × weight (0 from a context the account knows)',
  when: 'failed or refused attempts on the route above `thresholds.global`, whatever its baseline',
  lever: true,
};

export interface CredentialStuffingSettings {
  weight: number;
  windowMs: number;
  thresholds: {
    perIp: number;
    perAsn: number;
    perAccount: number;
    perCredential: number;
    global: number;
    distinctAccountsPerIp: number;
  };
  wave: { factor: number; floor: number };
}

/** 0 below half the threshold, rising linearly to 1 at the threshold. */
export function strength(count: number, threshold: number): number {
  const half = threshold / 2;
  if (count <= half) return 0;
  return Math.min(1, (count - half) / (threshold - half));
}

/** Slot spaces of the views. */
const CLIENTS = 'f:client';
const NETWORKS = 'f:asn';
const ACCOUNTS_FAILED = 'f:acct';
const CREDENTIALS = 'f:cred';
const ROUTES = 'f:route';
const ACCOUNTS_OF_CLIENT = 'f:accts';

/** Indices of the planned reads; -1 where a view does not apply. */
interface Slots {
  client: number;
  asn: number;
  account: number;
  credential: number;
  route: number;
  accounts: number;
  history: number | undefined;
}

/** A route's learned wave baseline: failed or refused attempts per window while no wave is on. */
interface Baseline {
  ewma: Ewma;
  sampledAt: number;
}

export class CredentialStuffingSignal implements CompiledSignal<Slots | undefined, LoginHistory | undefined> {
  readonly name = 'credentialStuffing';
  readonly settings: CredentialStuffingSettings;
  /** Per login route; the enforcer's own experience, kept across policy reloads. */
  readonly baselines: Map<string, Baseline>;

  constructor(settings: CredentialStuffingSettings, baselines = new Map<string, Baseline>()) {
    this.settings = settings;
    this.baselines = baselines;
  }

  plan(ctx: RequestContext, plan: StatePlan): Slots | undefined {
    const login = ctx.login;
    if (ctx.route.login === undefined || login === undefined) return undefined;
    const w = this.settings.windowMs;
    const asn = ctx.location.asn;
    // A client whose proxy withheld it without an id is not counted one by one.
    const key = ctx.client.key;
    return {
      client: key === '' ? -1 : plan.count(CLIENTS, key, w),
      asn: asn === undefined ? -1 : plan.count(NETWORKS, String(asn), w),
      account: plan.count(ACCOUNTS_FAILED, login.accountId, w),
      credential: login.credential === undefined ? -1 : plan.count(CREDENTIALS, login.credential, w),
      route: plan.count(ROUTES, ctx.route.name, w),
      accounts: key === '' ? -1 : plan.size(ACCOUNTS_OF_CLIENT, key),
      history: planHistory(ctx, plan),
    };
  }

  /** How far above its baseline the route is: 0 (quiet) to 1 (a wave); 0 while unlearned. */
  private waveStrength(route: string, count: number, now: number): number {
    let b = this.baselines.get(route);
    if (b === undefined) {
      b = { ewma: { mean: 0, variance: 0, n: 0 }, sampledAt: 0 };
      this.baselines.set(route, b);
    }
    const { factor, floor } = this.settings.wave;
    const threshold = Math.max(floor, factor * b.ewma.mean);
    const s = b.ewma.n >= BASELINE_SAMPLES ? strength(count, threshold) : 0;
    // Learned only in quiet times: a wave must not become the route's normal.
    if (s === 0 && now - b.sampledAt >= SAMPLE_EVERY_MS) {
      b.sampledAt = now;
      updateEwma(b.ewma, count);
    }
    return s;
  }

  score(
    ctx: RequestContext,
    state: StateView,
    slots: Slots | undefined,
    out: Contribution[],
  ): LoginHistory | undefined {
    if (slots === undefined) return undefined;
    const { weight, thresholds: t } = this.settings;
    const at = (i: number) => (i === -1 ? 0 : countAt(state, i));
    const history = historyAt(state, slots.history);
    // An attempt from a context the account knows is its owner's: what others did to the
    // account, its network or the route does not concern it.
    const known = isKnownContext(history, loginContextOf(ctx));
    const routeCount = at(slots.route);
    const wave = this.waveStrength(ctx.route.name, routeCount, ctx.now);
    const ceiling = strength(routeCount, t.global);
    const views: [ReasonCode, number, number, string][] = [
      [CLIENT, strength(at(slots.client), t.perIp), known ? 0.5 : 1, `${at(slots.client)} failed or refused`],
      [ACCOUNTS, strength(at(slots.accounts), t.distinctAccountsPerIp), 1, `${at(slots.accounts)} accounts`],
      [
        CREDENTIAL,
        strength(at(slots.credential), t.perCredential),
        known ? 0 : 1,
        `${at(slots.credential)} failed`,
      ],
      [ACCOUNT, strength(at(slots.account), t.perAccount), known ? 0 : 1, `${at(slots.account)} failed`],
      [ASN, strength(at(slots.asn), t.perAsn), known ? 0 : 1, `${at(slots.asn)} failed`],
      wave > ceiling
        ? [WAVE, wave, known ? 0 : 0.6, `${routeCount} failed or refused on the route`]
        : [GLOBAL, ceiling, known ? 0 : 0.6, `${routeCount} failed or refused on the route`],
    ];
    for (const [reason, s, cap, detail] of views) {
      const points = Math.round(weight * s * cap);
      if (points > 0)
        out.push({ code: reason.code, points, detail, ...(reason.lever ? { lever: true } : {}) });
    }
    return history;
  }

  learn(ctx: RequestContext, outcome: Outcome, history: LoginHistory | undefined, writes: StateWrites): void {
    const route = ctx.route;
    const login = ctx.login;
    if (route.login === undefined || login === undefined) return;
    const failed = !outcome.blocked && route.login.failureStatuses.has(outcome.status);
    if (outcome.accepted) learnSuccess(ctx, history, writes);
    if (!failed && !outcome.blocked) return;
    const w = this.settings.windowMs;
    const key = ctx.client.key;
    writes.count(ROUTES, route.name, w);
    if (key !== '') {
      writes.count(CLIENTS, key, w);
      writes.add(ACCOUNTS_OF_CLIENT, key, login.accountId, MAX_ACCOUNTS_PER_CLIENT, w, true);
    }
    // What the enforcer refused itself is not evidence against the account, the pair or the network.
    if (!failed) return;
    writes.count(ACCOUNTS_FAILED, login.accountId, w);
    if (login.credential !== undefined) writes.count(CREDENTIALS, login.credential, w);
    if (ctx.location.asn !== undefined) writes.count(NETWORKS, String(ctx.location.asn), w);
  }
}

export const credentialStuffing = defineSignal({
  name: 'credentialStuffing',
  usesLocation: true,
  reasons: [CLIENT, ACCOUNTS, CREDENTIAL, ACCOUNT, ASN, WAVE, GLOBAL],
  compile: (spec, ctx) =>
    new CredentialStuffingSignal(
      {
        weight: spec.weight,
        windowMs: parseDuration(spec.window),
        thresholds: spec.thresholds,
        wave: spec.wave,
      },
      (ctx.previous as CredentialStuffingSignal | undefined)?.baselines,
    ),
});
