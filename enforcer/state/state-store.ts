/**
 * Where the slots of state live (slots.ts). A request reads everything its signals planned in
 * one call — at most one round trip to shared state — and what it teaches is applied off the
 * response path. The in-memory store serves standalone enforcers and is the fallback, kept warm
 * by writing through, when shared state is unavailable.
 */
import type { StatePlan, StateView, StateWrites } from './slots.ts';

export type Claim = 'claimed' | 'taken' | 'local';

export interface StateStore {
  /** Reads every slot of the plan; synchronous when the state is local (or cached). */
  read(plan: StatePlan, now: number): StateView | Promise<StateView>;
  /** Applies the writes of one answered request; never throws, never waits. */
  apply(writes: StateWrites, now: number): void;
  /**
   * Claims `id` in `space` for `ttlMs`, atomically across the enforcers that share the store (a
   * spent proof of work): `claimed` for the first claim, `taken` for every other while it lasts,
   * `local` when shared state could not be asked and only this enforcer's own claims were
   * checked (a sibling may still accept the same id: what failMode decides).
   */
  claim(space: string, id: string, ttlMs: number, now: number): Claim | Promise<Claim>;
  /** Counts one request against `key` and returns the count in the window. */
  rateLimitHit(key: string, windowMs: number, now: number): number | Promise<number>;
  /** Sends batched writes now (shutdown, tests). */
  flush(): Promise<void>;
  close(): Promise<void>;
}
