/** IP reputation: is the client in one of the policy's threat feeds? */
import type { RequestContext } from '../context/request-context.ts';
import type { FeedSource } from '../feeds/feed-source.ts';
import type { Contribution, Signal } from './signal.ts';

export class IpReputationSignal implements Signal {
  readonly name = 'ipReputation';
  private readonly feeds: readonly FeedSource[];

  constructor(feeds: readonly FeedSource[]) {
    this.feeds = feeds;
  }

  evaluate(ctx: RequestContext, _state: unknown, out: Contribution[]): void {
    const { family, words } = ctx.client;
    let best: FeedSource | undefined;
    for (const feed of this.feeds) {
      if (feed.ranges.has(family, words) && (!best || feed.spec.weight > best.spec.weight)) best = feed;
    }
    if (best) {
      out.push({
        code: 'ip.reputation',
        points: best.spec.weight,
        detail: `${best.spec.name} (${best.spec.category})`,
      });
    }
  }
}
