/**
 * A risk signal: one module, one question about the request, in one shape. Its definition says
 * which part of `spec.signals` turns it on, how that compiles (at config time: everything slow
 * or fallible happens here), which reason codes it may emit, and whether it needs the client's
 * location. Compiled, it plans the state slots a request needs (state/slots.ts), scores from
 * the context and what the store answered — pure, never throwing on request data — and learns
 * from the answer, off the response path. The registry (index.ts) lists every signal; compile,
 * evaluate and the outcome stage iterate it and know no signal by name.
 */
import type { RiskPolicySpec } from '../../api/riskpolicy.ts';
import type { RequestContext } from '../context/request-context.ts';
import type { Decision } from '../decision/decide.ts';
import type { FeedSource, SharedFeeds } from '../feeds/feed-source.ts';
import type { StatePlan, StateView, StateWrites } from '../state/slots.ts';

export interface Contribution {
  /** Stable reason code, e.g. ip.reputation; registered by its signal (reasons). */
  code: string;
  points: number;
  /** Short human detail for logs and explain; never sent to clients. */
  detail: string;
  /**
   * Raised by others' actions rather than this request's own (failures counted against an
   * account, a network, everyone): it may challenge the request, never restrict or deny it
   * (decision/decide.ts). Set from the reason code's registration.
   */
  lever?: boolean;
}

/** A reason code as docs/signals.md lists it (generated from the registry). */
export interface ReasonCode {
  code: string;
  /** How many points, in words: `weight`, `up to weight`, `hostingAsnPenalty`, … */
  points: string;
  when: string;
  /** Counts that anyone can raise against someone else: the contribution challenges at most. */
  lever?: boolean;
}

/** What the answer to a request was, as learning sees it. */
export interface Outcome {
  /** The app's status, or 0 when it did not answer (blocked by us, or unreachable). */
  status: number;
  bytes: number;
  /** The enforcer answered itself (challenge, restrict, deny). */
  blocked: boolean;
  enforced: Decision;
  /**
   * The request was the risk subject's own. On a login route only once the app accepted the
   * password: until then the attempt is not the owner's and teaches nothing about them.
   */
  owner: boolean;
  /** Let through, the owner's, and accepted by the app (2xx/3xx): a place, a device to trust. */
  accepted: boolean;
}

export interface SignalCompileContext {
  /** Relative files (feeds, databases) resolve against the policy file's folder. */
  baseDir: string;
  /** The same signal in the running policy: what it learned survives a reload. */
  previous: CompiledSignal | undefined;
  /** In a cluster, feeds the operator shares for this policy (contract/shared-feed.ts). */
  sharedFeeds: SharedFeeds | undefined;
  onFeedChange: ((feed: FeedSource) => void) | undefined;
}

export interface CompiledSignal<Slots = unknown, Memo = unknown> {
  readonly name: SignalName;
  /** The slots this request needs read; what it returns comes back to score. */
  plan?(ctx: RequestContext, plan: StatePlan): Slots;
  /** Adds contributions; what it returns (if anything) comes back to learn. */
  score(ctx: RequestContext, state: StateView, slots: Slots, out: Contribution[]): Memo;
  /** What the answer teaches, as slot writes. */
  learn?(ctx: RequestContext, outcome: Outcome, memo: Memo, writes: StateWrites): void;
  /** Threat feeds the signal holds: loaded before the policy runs, shown in /readyz and metrics. */
  readonly feeds?: readonly FeedSource[];
  /** Stops background work when the policy is replaced. */
  stop?(): void;
}

export type SignalsSpec = RiskPolicySpec['signals'];
export type SignalName = keyof SignalsSpec;

export interface SignalDefinition<N extends SignalName = SignalName> {
  name: N;
  reasons: readonly ReasonCode[];
  /** Whether the signal needs the client's country, coordinates or network. */
  usesLocation: boolean;
  compile(
    spec: NonNullable<SignalsSpec[N]>,
    ctx: SignalCompileContext,
  ): CompiledSignal | Promise<CompiledSignal>;
}

export function defineSignal<N extends SignalName>(definition: SignalDefinition<N>): SignalDefinition<N> {
  return definition;
}
