/**
 * The operator's side of shared feeds: for every valid policy, each URL feed is fetched here on
 * its interval (conditional GET, last good list kept) and published to Redis for the enforcers.
 */
import type { Redis } from 'ioredis';
import { parseDuration } from '../../../api/duration.ts';
import type { RiskPolicy } from '../../../api/riskpolicy.ts';
import { FeedSource } from '../../../enforcer/feeds/feed-source.ts';
import { publishSharedFeed } from '../../../enforcer/feeds/shared-feeds.ts';

export class FeedMirror {
  private readonly sources = new Map<string, FeedSource>();
  private readonly redis: Redis;

  constructor(redis: Redis) {
    this.redis = redis;
  }

  /** Makes the mirrored feeds of one policy match its spec (undefined: the policy is gone). */
  sync(namespace: string, name: string, policy: RiskPolicy | undefined): void {
    const prefix = `${namespace}/${name}/`;
    const wanted = new Map<
      string,
      { url: string; format: 'plain' | 'netset' | 'spamhaus-drop'; refreshMs: number }
    >();
    for (const f of policy?.spec.signals.ipReputation?.feeds ?? []) {
      if (f.url)
        wanted.set(`${prefix}${f.name}`, {
          url: f.url,
          format: f.format,
          refreshMs: parseDuration(f.refreshInterval),
        });
    }
    for (const [key, source] of this.sources) {
      const w = wanted.get(key);
      if (key.startsWith(prefix) && (!w || w.url !== source.spec.url || w.format !== source.spec.format)) {
        source.stop();
        this.sources.delete(key);
      }
    }
    for (const [key, w] of wanted) {
      if (this.sources.has(key)) continue;
      const feedName = key.slice(prefix.length);
      const source = new FeedSource(
        { name: feedName, url: w.url, format: w.format, refreshMs: w.refreshMs, category: '', weight: 0 },
        () => {},
        (text) =>
          void publishSharedFeed(this.redis, namespace, name, feedName, text, w.refreshMs).catch(() => {}),
      );
      this.sources.set(key, source);
      void source.start();
    }
  }

  stop(): void {
    for (const s of this.sources.values()) s.stop();
    this.sources.clear();
  }
}
