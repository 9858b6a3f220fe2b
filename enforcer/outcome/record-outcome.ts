/**
 * The last stage: what the app answered feeds back into the state. Each signal learns what it
 * learns (signals/*: a place, a device, a baseline, a failure) as slot writes, applied at once
 * to the store — counts reach shared state immediately, the rest in batches. Nothing here delays
 * this response.
 */
import type { Decision } from '../decision/decide.ts';
import type { Scored } from '../evaluate.ts';
import type { CompiledPolicy } from '../policy/compiled-policy.ts';
import type { Outcome } from '../signals/signal.ts';
import { StateWrites } from '../state/slots.ts';
import type { StateStore } from '../state/state-store.ts';

export interface Answer {
  /** The app's status, or 0 when it did not answer (blocked by us, or unreachable). */
  status: number;
  bytes: number;
  /** True when the enforcer answered itself (challenge, restrict, deny). */
  blocked: boolean;
}

export function recordOutcome(
  policy: CompiledPolicy,
  scored: Scored,
  enforced: Decision,
  answer: Answer,
  state: StateStore,
): void {
  const { ctx } = scored;
  const login = ctx.route.login;
  const answered = answer.status > 0 && answer.status < 400;
  // On a login route the risk subject is only the account being tried: until the app says the
  // password was right, the attempt is not the owner's and must not teach us anything about them.
  const owner = login ? answered && !login.failureStatuses.has(answer.status) : true;
  const outcome: Outcome = {
    status: answer.status,
    bytes: answer.bytes,
    blocked: answer.blocked,
    enforced,
    owner,
    accepted: enforced === 'allow' && owner && answered,
  };
  const writes = new StateWrites();
  const { signals, learners } = policy;
  for (let l = 0; l < learners.length; l++) {
    const i = learners[l]!;
    signals[i]!.learn!(ctx, outcome, scored.memos[i], writes);
  }
  if (writes.writes.length > 0) state.apply(writes, ctx.now);
}
