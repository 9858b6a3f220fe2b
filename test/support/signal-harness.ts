/**
 * Runs one compiled signal the way the request path does — plan, one store read, score; and
 * learning applied to the store — for unit tests of signals against a real store.
 */
import type { RequestContext } from '../../enforcer/context/request-context.ts';
import type { CompiledSignal, Contribution, Outcome } from '../../enforcer/signals/signal.ts';
import { StatePlan, type StateView, StateWrites } from '../../enforcer/state/slots.ts';
import type { StateStore } from '../../enforcer/state/state-store.ts';

export async function score(
  signal: CompiledSignal,
  store: StateStore,
  ctx: RequestContext,
): Promise<{ contributions: Contribution[]; memo: unknown }> {
  const plan = new StatePlan();
  const slots = signal.plan?.(ctx, plan);
  const view: StateView = await store.read(plan, ctx.now);
  const contributions: Contribution[] = [];
  const memo = signal.score(ctx, view, slots, contributions);
  return { contributions, memo };
}

/** Scores with the planned slots answered by `answer` (a value per read), without a store. */
export function scoreWithValues(
  signal: CompiledSignal,
  ctx: RequestContext,
  answer: (reads: StatePlan['reads']) => unknown[],
): Contribution[] {
  const plan = new StatePlan();
  const slots = signal.plan?.(ctx, plan);
  const contributions: Contribution[] = [];
  signal.score(ctx, { values: answer(plan.reads), degraded: false }, slots, contributions);
  return contributions;
}

/** An answered request the app accepted: what learning sees after a normal 200. */
export const ACCEPTED: Outcome = {
  status: 200,
  bytes: 100,
  blocked: false,
  enforced: 'allow',
  owner: true,
  accepted: true,
};

export function learn(
  signal: CompiledSignal,
  store: StateStore,
  ctx: RequestContext,
  outcome: Outcome = ACCEPTED,
  memo?: unknown,
): void {
  const writes = new StateWrites();
  signal.learn?.(ctx, outcome, memo, writes);
  store.apply(writes, ctx.now);
}
