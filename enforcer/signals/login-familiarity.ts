/**
 * Login familiarity: how familiar an attempt's context is for the account it names, from the
 * account's recent successful logins (login-history.ts), against how common that context is
 * among everyone's — the likelihood ratio of Freeman et al. (NDSS 2016). The owner, from their
 * usual network and browser, passes; a stranger with the right password pays. An account with
 * no history yet (a first login, or an account that does not exist) is neither.
 */
import type { RequestContext } from '../context/request-context.ts';
import type { StatePlan, StateView, StateWrites } from '../state/slots.ts';
import {
  historyAt,
  LOGIN_FEATURES,
  type LoginFeature,
  type LoginHistory,
  learnSuccess,
  loginContextOf,
  logLikelihoodRatio,
  planHistory,
} from './login-history.ts';
import { Population } from './population.ts';
import {
  type CompiledSignal,
  type Contribution,
  defineSignal,
  type Outcome,
  type ReasonCode,
} from './signal.ts';

/** Values each feature takes in the world, as the population's prior (population.ts). */
const VOCABULARY: Record<LoginFeature, number> = {
  prefix: 1_000_000,
  asn: 80_000,
  country: 250,
  agent: 100,
  device: 1_000_000,
};

/** Successful logins before the account's history speaks. */
const ESTABLISHED = 2;
/** Summed log10 ratio from which the context counts as unfamiliar, and at which it is fully so. */
const FROM = 0.5;
const FULL = 2;

const UNFAMILIAR: ReasonCode = {
  code: 'auth.login.unfamiliar_context',
  points: 'up to weight',
  when: "the attempt's network prefix, ASN, country, browser family and device are unlike the account's recent successful logins and like anyone's (log10 likelihood ratio from 0.5, full at 2), for an account with 2 or more",
};

export class LoginFamiliaritySignal implements CompiledSignal<number | undefined, LoginHistory | undefined> {
  readonly name = 'loginFamiliarity';
  /** Everyone's successful logins on this enforcer; kept across policy reloads. */
  readonly population: Population<LoginFeature>;
  private readonly weight: number;

  constructor(weight: number, population = new Population(LOGIN_FEATURES, VOCABULARY)) {
    this.weight = weight;
    this.population = population;
  }

  plan(ctx: RequestContext, plan: StatePlan): number | undefined {
    return ctx.route.login === undefined ? undefined : planHistory(ctx, plan);
  }

  score(
    ctx: RequestContext,
    state: StateView,
    slot: number | undefined,
    out: Contribution[],
  ): LoginHistory | undefined {
    if (slot === undefined) return undefined;
    const history = historyAt(state, slot);
    if (history === undefined || history.n < ESTABLISHED) return history;
    const ratio = logLikelihoodRatio(history, loginContextOf(ctx), this.population);
    if (ratio > FROM) {
      const s = Math.min(1, ratio / FULL);
      out.push({
        code: UNFAMILIAR.code,
        points: Math.round(this.weight * s),
        detail: `log10 LR ${ratio.toFixed(2)}`,
      });
    }
    return history;
  }

  /** A success the app confirmed teaches the account's history and everyone's. */
  learn(ctx: RequestContext, outcome: Outcome, history: LoginHistory | undefined, writes: StateWrites): void {
    if (ctx.route.login === undefined || ctx.login === undefined || !outcome.accepted) return;
    learnSuccess(ctx, history, writes);
    this.population.learn(loginContextOf(ctx));
  }
}

export const loginFamiliarity = defineSignal({
  name: 'loginFamiliarity',
  usesLocation: true,
  reasons: [UNFAMILIAR],
  compile: (spec, ctx) =>
    new LoginFamiliaritySignal(spec.weight, (ctx.previous as LoginFamiliaritySignal | undefined)?.population),
});
