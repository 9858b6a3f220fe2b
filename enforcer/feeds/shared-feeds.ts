/**
 * Threat feeds fetched once per cluster: the operator fetches each URL feed and stores the text
 * in Redis; enforcers read it from there instead of every pod fetching the same list.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { SharedFeeds } from './feed-source.ts';

export function sharedFeedKey(namespace: string, policy: string, feed: string): string {
  return `rg:{${namespace}/${policy}}:feed:${feed}`;
}

/** What enforcers read. */
export function redisSharedFeeds(redis: Redis): (namespace: string, policy: string) => SharedFeeds {
  return (namespace, policy) => ({
    async read(name) {
      const [text, version] = await redis.hmget(sharedFeedKey(namespace, policy, name), 'text', 'version');
      return text && version ? { text, version } : undefined;
    },
  });
}

/** What the operator writes: the text and its hash, kept for three refresh intervals. */
export async function publishSharedFeed(
  redis: Redis,
  namespace: string,
  policy: string,
  feed: string,
  text: string,
  refreshMs: number,
): Promise<void> {
  const key = sharedFeedKey(namespace, policy, feed);
  const version = createHash('sha256').update(text).digest('hex').slice(0, 16);
  await redis
    .multi()
    .hset(key, 'text', text, 'version', version)
    .pexpire(key, Math.max(3 * refreshMs, 600_000))
    .exec();
}
