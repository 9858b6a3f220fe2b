/**
 * Credential stuffing on login routes: failed attempts counted per IP, per account, per
 * credential pair, globally, and distinct accounts tried per IP. Each view reaches full weight
 * at its threshold and says nothing below half of it, so a user's typo never counts. The
 * global view alone only raises a challenge: during a botnet wave everyone proves work, nobody
 * is locked out.
 */
import type { RequestContext } from '../context/request-context.ts';
import type { StateSnapshot } from '../state/state-store.ts';
import type { Contribution, Signal } from './signal.ts';

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

export class CredentialStuffingSignal implements Signal {
  readonly name = 'credentialStuffing';
  readonly settings: CredentialStuffingSettings;

  constructor(settings: CredentialStuffingSettings) {
    this.settings = settings;
  }

  evaluate(ctx: RequestContext, state: StateSnapshot, out: Contribution[]): void {
    if (ctx.route.login === undefined) return;
    const { weight, thresholds: t } = this.settings;
    const counts = state.loginFailures;
    // A device this account has already logged in from is the owner's, not a bot's: the wave
    // around it (global view) does not concern it, and an attack on its account (account and
    // credential views) asks it for proof of work, never locks it out.
    const owner = state.device === 'known' ? 0.5 : 1;
    const views: [string, number, number, number][] = [
      ['auth.credential_stuffing.ip', counts.ip, t.perIp, 1],
      ['auth.credential_stuffing.asn', counts.asn, t.perAsn, 1],
      ['auth.credential_stuffing.account', counts.account, t.perAccount, owner],
      ['auth.credential_stuffing.credential', counts.credential, t.perCredential, owner],
      ['auth.credential_stuffing.accounts_per_ip', counts.distinctAccountsPerIp, t.distinctAccountsPerIp, 1],
      ['auth.credential_stuffing.global', counts.global, t.global, owner === 1 ? 0.6 : 0],
    ];
    for (const [code, count, threshold, cap] of views) {
      const s = strength(count, threshold);
      if (s > 0)
        out.push({ code, points: Math.round(weight * s * cap), detail: `${count} failures in window` });
    }
  }
}
