/**
 * A risk signal: one module, one question about the request. It adds zero or more
 * contributions — points with a stable reason code — and never throws on request data.
 */
import type { RequestContext } from '../context/request-context.ts';
import type { StateSnapshot } from '../state/state-store.ts';

export interface Contribution {
  /** Stable reason code, e.g. ip.reputation; also a metric label. */
  code: string;
  points: number;
  /** Short human detail for logs and explain; never sent to clients. */
  detail: string;
}

export interface Signal {
  readonly name: string;
  evaluate(ctx: RequestContext, state: StateSnapshot, out: Contribution[]): void;
}
