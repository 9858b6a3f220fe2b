/**
 * The operator's side of shared feeds (contract/shared-feed.ts): for every valid policy, each URL
 * feed is fetched here on its interval and published to Redis for the policy's enforcers, which
 * then never fetch it themselves. The last good list stays published when a fetch fails, and
 * each feed's state is kept for the policy's status.
 */
import type { Redis } from 'ioredis';
import type { RiskPolicy } from '../../api/riskpolicy.ts';
import { policyScope } from '../../contract/redis-keys.ts';
import {
  keepSharedFeed,
  publishSharedFeed,
  type SharedFeedRef,
  sharedFeedsOf,
} from '../../contract/shared-feed.ts';
import { FeedFetcher } from './feed-fetcher.ts';

export interface MirroredFeedStatus {
  name: string;
  url: string;
  /** Epoch ms of the last good fetch (published or unchanged), 0 if never. */
  fetchedAt: number;
  entries: number;
  lastError: string | undefined;
}

interface Mirrored {
  ref: SharedFeedRef;
  fetcher: FeedFetcher;
  timer: NodeJS.Timeout | undefined;
  status: MirroredFeedStatus;
}

export class FeedMirror {
  private readonly feeds = new Map<string, Mirrored>();
  private readonly redis: Redis;
  private readonly onChange: (namespace: string, policy: string) => void;

  /** `onChange` is told when a feed of a policy is fetched or fails (to refresh its status). */
  constructor(redis: Redis, onChange: (namespace: string, policy: string) => void = () => {}) {
    this.redis = redis;
    this.onChange = onChange;
  }

  /** Makes the mirrored feeds of one policy match its spec (undefined: the policy is gone). */
  sync(namespace: string, name: string, policy: RiskPolicy | undefined): void {
    const prefix = `${namespace}/${name}/`;
    const wanted = new Map<string, SharedFeedRef>();
    for (const ref of policy ? sharedFeedsOf(policy.spec) : []) wanted.set(`${prefix}${ref.name}`, ref);
    for (const [key, feed] of this.feeds) {
      const w = wanted.get(key);
      if (key.startsWith(prefix) && (!w || w.url !== feed.ref.url || w.format !== feed.ref.format)) {
        if (feed.timer) clearTimeout(feed.timer);
        this.feeds.delete(key);
      }
    }
    for (const [key, ref] of wanted) {
      if (this.feeds.has(key)) continue;
      const feed: Mirrored = {
        ref,
        fetcher: new FeedFetcher(ref.url, ref.format),
        timer: undefined,
        status: { name: ref.name, url: ref.url, fetchedAt: 0, entries: 0, lastError: undefined },
      };
      this.feeds.set(key, feed);
      void this.refresh(key, namespace, name, feed);
    }
  }

  /** The mirrored feeds of one policy, for its status. */
  statusOf(namespace: string, name: string): MirroredFeedStatus[] {
    const prefix = `${namespace}/${name}/`;
    return [...this.feeds.entries()].filter(([k]) => k.startsWith(prefix)).map(([, f]) => ({ ...f.status }));
  }

  private async refresh(key: string, namespace: string, policy: string, feed: Mirrored): Promise<void> {
    try {
      const scope = policyScope(namespace, policy);
      let fetched = await feed.fetcher.fetch();
      if (fetched.text === undefined && !(await keepSharedFeed(this.redis, scope, feed.ref))) {
        feed.fetcher.forget();
        fetched = await feed.fetcher.fetch();
      }
      if (fetched.text !== undefined) {
        await publishSharedFeed(this.redis, scope, feed.ref, fetched.text);
        feed.status.entries = fetched.entries ?? 0;
      }
      feed.status.fetchedAt = Date.now();
      feed.status.lastError = undefined;
    } catch (err) {
      feed.status.lastError = (err as Error).message;
    }
    if (this.feeds.get(key) !== feed) return; // removed while fetching
    this.onChange(namespace, policy);
    feed.timer = setTimeout(() => void this.refresh(key, namespace, policy, feed), feed.ref.refreshMs);
    feed.timer.unref();
  }

  stop(): void {
    for (const f of this.feeds.values()) if (f.timer) clearTimeout(f.timer);
    this.feeds.clear();
  }
}
