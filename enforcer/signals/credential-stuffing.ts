/**
 * Credential stuffing on login routes: failed attempts counted per IP, per ASN, per account, per
 * credential pair, globally, and distinct accounts tried per IP. Each view reaches full weight
 * at its threshold and says nothing below half of it, so a user's typo never counts. The
 * global view alone only raises a challenge: during a botnet wave everyone proves work, nobody
 * is locked out.
 */
import { parseDuration } from '../../api/duration.ts';
import type { RequestContext } from '../context/request-context.ts';
import { countAt, membershipAt, type StatePlan, type StateView, type StateWrites } from '../state/slots.ts';
import { KNOWN_DEVICES } from './device.ts';
import { type CompiledSignal, type Contribution, defineSignal, type Outcome } from './signal.ts';

export const MAX_ACCOUNTS_PER_IP = 256;

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
}

/** 0 below half the threshold, rising linearly to 1 at the threshold. */
export function strength(count: number, threshold: number): number {
  const half = threshold / 2;
  if (count <= half) return 0;
  return Math.min(1, (count - half) / (threshold - half));
}

type View = [space: string, id: string];

/** The failure views of one attempt, as slots; undefined where the view does not apply. */
function views(ctx: RequestContext) {
  const login = ctx.login;
  const asn = ctx.location.asn;
  return {
    ip: ['f:ip', ctx.client.ip] as View,
    asn: asn === undefined ? undefined : (['f:asn', String(asn)] as View),
    account: login ? (['f:acct', login.account] as View) : undefined,
    credential: login?.credential ? (['f:cred', login.credential] as View) : undefined,
    global: ['f:global', ''] as View,
    accounts: login ? (['f:accts', ctx.client.ip] as View) : undefined,
  };
}

/** Indices of the planned reads; -1 where a view does not apply. */
interface Slots {
  ip: number;
  asn: number;
  account: number;
  credential: number;
  global: number;
  accounts: number;
  knownDevice: number;
}

export class CredentialStuffingSignal implements CompiledSignal<Slots | undefined> {
  readonly name = 'credentialStuffing';
  readonly settings: CredentialStuffingSettings;

  constructor(settings: CredentialStuffingSettings) {
    this.settings = settings;
  }

  plan(ctx: RequestContext, plan: StatePlan): Slots | undefined {
    if (ctx.route.login === undefined) return undefined;
    const keys = views(ctx);
    const windowMs = this.settings.windowMs;
    const count = (v: View | undefined) => (v === undefined ? -1 : plan.count(v[0], v[1], windowMs));
    return {
      ip: count(keys.ip),
      asn: count(keys.asn),
      account: count(keys.account),
      credential: count(keys.credential),
      global: count(keys.global),
      accounts: keys.accounts === undefined ? -1 : plan.size(keys.accounts[0], keys.accounts[1]),
      knownDevice:
        ctx.riskSubject !== undefined && ctx.device.id !== undefined
          ? plan.member(KNOWN_DEVICES, ctx.riskSubject, ctx.device.id)
          : -1,
    };
  }

  score(_ctx: RequestContext, state: StateView, slots: Slots | undefined, out: Contribution[]): void {
    if (slots === undefined) return;
    const { weight, thresholds: t } = this.settings;
    const at = (i: number) => (i === -1 ? 0 : countAt(state, i));
    // A device this account has already logged in from is the owner's, not a bot's: the wave
    // around it (global view) does not concern it, and an attack on its account (account and
    // credential views) asks it for proof of work, never locks it out.
    const known = slots.knownDevice !== -1 && membershipAt(state, slots.knownDevice).isMember;
    const owner = known ? 0.5 : 1;
    const views: [string, number, number, number][] = [
      ['auth.credential_stuffing.ip', at(slots.ip), t.perIp, 1],
      ['auth.credential_stuffing.asn', at(slots.asn), t.perAsn, 1],
      ['auth.credential_stuffing.account', at(slots.account), t.perAccount, owner],
      ['auth.credential_stuffing.credential', at(slots.credential), t.perCredential, owner],
      ['auth.credential_stuffing.accounts_per_ip', at(slots.accounts), t.distinctAccountsPerIp, 1],
      ['auth.credential_stuffing.global', at(slots.global), t.global, owner === 1 ? 0.6 : 0],
    ];
    for (const [code, count, threshold, cap] of views) {
      const s = strength(count, threshold);
      if (s > 0)
        out.push({ code, points: Math.round(weight * s * cap), detail: `${count} failures in window` });
    }
  }

  /**
   * A failed login feeds every view. A login attempt we blocked counts like a failed one: an
   * attack that keeps hammering after its first challenge keeps the views hot instead of
   * sliding out of the window.
   */
  learn(ctx: RequestContext, outcome: Outcome, _memo: unknown, writes: StateWrites): void {
    const login = ctx.route.login;
    if (!login || !(outcome.blocked || login.failureStatuses.has(outcome.status))) return;
    const keys = views(ctx);
    const windowMs = this.settings.windowMs;
    for (const v of [keys.ip, keys.global, keys.asn, keys.account, keys.credential]) {
      if (v !== undefined) writes.count(v[0], v[1], windowMs);
    }
    if (keys.accounts !== undefined && ctx.login) {
      writes.add(keys.accounts[0], keys.accounts[1], ctx.login.account, MAX_ACCOUNTS_PER_IP, windowMs, true);
    }
  }
}

export const credentialStuffing = defineSignal({
  name: 'credentialStuffing',
  usesLocation: true,
  reasons: [
    {
      code: 'auth.credential_stuffing.ip',
      points: 'up to weight',
      when: 'failed logins from this IP in the window (from half the threshold up)',
    },
    { code: 'auth.credential_stuffing.asn', points: 'up to weight', when: 'failed logins from this network' },
    {
      code: 'auth.credential_stuffing.account',
      points: 'up to weight (½ from a known device)',
      when: 'failed logins against this account',
    },
    {
      code: 'auth.credential_stuffing.credential',
      points: 'up to weight (½ from a known device)',
      when: 'this account + password pair failed before (a salted hash is counted, never the password)',
    },
    {
      code: 'auth.credential_stuffing.accounts_per_ip',
      points: 'up to weight',
      when: 'distinct accounts tried from this IP',
    },
    {
      code: 'auth.credential_stuffing.global',
      points: 'up to 0.6 × weight (0 from a known device)',
      when: 'failed logins everywhere: a wave challenges every login, but alone never denies one',
    },
  ],
  compile: (spec) =>
    new CredentialStuffingSignal({
      weight: spec.weight,
      windowMs: parseDuration(spec.window),
      thresholds: spec.thresholds,
    }),
});
