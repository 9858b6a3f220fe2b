/**
 * The enforcer's side of feeds shared by the operator (contract/shared-feed.ts): a policy's URL
 * feeds are read from Redis instead of fetched by every pod.
 */
import type { Redis } from 'ioredis';
import { policyScope } from '../../contract/redis-keys.ts';
import { readSharedFeed } from '../../contract/shared-feed.ts';
import type { SharedFeeds } from './feed-source.ts';

export function redisSharedFeeds(redis: Redis): (namespace: string, policy: string) => SharedFeeds {
  return (namespace, policy) => ({
    read: (name) => readSharedFeed(redis, policyScope(namespace, policy), name),
  });
}
