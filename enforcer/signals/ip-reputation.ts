/** IP reputation: is the client in one of the policy's threat feeds? */
import { resolve } from 'node:path';
import { parseDuration } from '../../api/duration.ts';
import type { RequestContext } from '../context/request-context.ts';
import { FeedSource } from '../feeds/feed-source.ts';
import { type CompiledSignal, type Contribution, defineSignal } from './signal.ts';

class IpReputation implements CompiledSignal {
  readonly name = 'ipReputation';
  readonly feeds: readonly FeedSource[];

  constructor(feeds: readonly FeedSource[]) {
    this.feeds = feeds;
  }

  score(ctx: RequestContext, _state: unknown, _slots: unknown, out: Contribution[]): void {
    const { family, words, hidden } = ctx.client;
    if (hidden) return;
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

  stop(): void {
    for (const f of this.feeds) f.stop();
  }
}

export const ipReputation = defineSignal({
  name: 'ipReputation',
  usesLocation: false,
  reasons: [
    {
      code: 'ip.reputation',
      points: 'feed weight (default: signal weight 90)',
      when: 'the client is in a feed; the heaviest matching feed counts',
    },
  ],
  compile(spec, ctx) {
    const previous = new Map((ctx.previous?.feeds ?? []).map((f) => [f.spec.name, f]));
    const feeds = spec.feeds.map((f) => {
      const source = new FeedSource(
        {
          name: f.name,
          url: f.url,
          file: f.file === undefined ? undefined : resolve(ctx.baseDir, f.file),
          format: f.format,
          refreshMs: parseDuration(f.refreshInterval),
          category: f.category,
          weight: f.weight ?? spec.weight,
          required: f.required,
          ...(f.url && ctx.sharedFeeds ? { shared: ctx.sharedFeeds } : {}),
        },
        ctx.onFeedChange,
      );
      // A reload keeps a feed's list when its source did not change: no refetch.
      const before = previous.get(f.name);
      if (before && before.spec.url === source.spec.url && before.spec.file === source.spec.file) {
        source.adopt(before);
      }
      return source;
    });
    return new IpReputation(feeds);
  },
});
