/**
 * Threat feeds in a cluster: the operator fetches each URL feed once and stores its text in
 * Redis; every enforcer of the policy reads it from there instead of fetching it itself. This is
 * what the two agree on — which feeds a policy has, how a feed is fetched and bounded, how its
 * text reads (one entry a line, in three formats, or the JSON range files search engines
 * publish), and how it is stored.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { isCidr } from '../api/cidr.ts';
import { parseDuration } from '../api/duration.ts';
import type { RiskPolicySpec } from '../api/riskpolicy.ts';
import { sharedFeedKey } from './redis-keys.ts';

export type FeedFormat = 'plain' | 'netset' | 'spamhaus-drop' | 'prefixes-json';

export const FEED_MAX_BYTES = 64 * 1024 * 1024;
export const FEED_FETCH_TIMEOUT_MS = 30_000;
export const FEED_USER_AGENT = 'riskgate-feed/1';

export class FeedFormatError extends Error {
  readonly code = 'RG_ERR_FEED_FORMAT';
}

/** A URL feed of a policy, as the operator mirrors it. */
export interface SharedFeedRef {
  /** The signal whose feed it is, e.g. ipReputation. */
  signal: string;
  name: string;
  url: string;
  format: FeedFormat;
  refreshMs: number;
}

/** Every URL feed a policy's enforcers expect to find shared, by signal. */
export function sharedFeedsOf(spec: RiskPolicySpec): SharedFeedRef[] {
  const out: SharedFeedRef[] = [];
  for (const f of spec.signals.ipReputation?.feeds ?? []) {
    if (f.url === undefined) continue;
    out.push({
      signal: 'ipReputation',
      name: f.name,
      url: f.url,
      format: f.format,
      refreshMs: parseDuration(f.refreshInterval),
    });
  }
  for (const c of spec.signals.automation?.crawlers ?? []) {
    if (c.url === undefined) continue;
    out.push({
      signal: 'automation',
      name: crawlerFeedName(c.name),
      url: c.url,
      format: c.format,
      refreshMs: parseDuration(c.refreshInterval),
    });
  }
  return out;
}

/** A crawler's ranges, shared under a name no threat feed can take. */
export function crawlerFeedName(crawler: string): string {
  return `crawler:${crawler}`;
}

/** The body of an HTTP answer, as undici gives it. */
export interface FeedBody extends AsyncIterable<Uint8Array> {
  dump(): Promise<void>;
  destroy(): void;
}

/**
 * A feed URL's answer, read the same way on both sides: 304 is "unchanged" (undefined), 200 its
 * text within the size cap, anything else an error. The body is always consumed or destroyed.
 */
export async function readFeedAnswer(status: number, body: FeedBody): Promise<string | undefined> {
  const read = await readFeedAnswerChunks(status, body);
  return read && Buffer.concat(read.chunks, read.size).toString('utf8');
}

/** A feed's bytes as they arrived, not joined into one buffer. */
export interface FeedChunks {
  chunks: Uint8Array[];
  size: number;
}

/**
 * readFeedAnswer, as the chunks that arrived: an enforcer copies a large feed to its parse thread
 * from these a slice at a time, where joining 20 MB into one buffer held its event loop for
 * 18-21 ms.
 */
export async function readFeedAnswerChunks(status: number, body: FeedBody): Promise<FeedChunks | undefined> {
  if (status !== 200) {
    await body.dump();
    if (status === 304) return undefined;
    throw new Error(`feed URL answered ${status}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > FEED_MAX_BYTES) {
      body.destroy();
      throw new Error(`feed larger than ${FEED_MAX_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  return { chunks, size };
}

/**
 * Calls `entry` with each entry of a feed's text — comments, blank lines and Spamhaus's
 * `; SBL` tails removed — and returns how many lines held an entry.
 */
export function forEachFeedEntry(text: string, format: FeedFormat, entry: (line: string) => void): number {
  if (format === 'prefixes-json') return forEachPrefix(text, entry);
  let lines = 0;
  let start = 0;
  const commentMark = format === 'spamhaus-drop' ? ';' : '#';
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    let line = text.slice(start, end);
    start = end + 1;
    const comment = line.indexOf(commentMark);
    if (comment !== -1) line = line.slice(0, comment);
    if (format !== 'spamhaus-drop') {
      const hash = line.indexOf('#');
      if (hash !== -1) line = line.slice(0, hash);
    }
    line = line.trim();
    if (line === '') continue;
    lines++;
    entry(line);
  }
  return lines;
}

/** Google's and Bing's range files: `{"prefixes": [{"ipv4Prefix": "…"}, {"ipv6Prefix": "…"}]}`. */
function forEachPrefix(text: string, entry: (line: string) => void): number {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new FeedFormatError('not JSON');
  }
  const prefixes = (doc as { prefixes?: unknown } | null)?.prefixes;
  if (!Array.isArray(prefixes)) throw new FeedFormatError('no "prefixes" list');
  let lines = 0;
  for (const p of prefixes) {
    const value =
      (p as { ipv4Prefix?: unknown; ipv6Prefix?: unknown } | null)?.ipv4Prefix ??
      (p as { ipv6Prefix?: unknown } | null)?.ipv6Prefix;
    lines++;
    entry(typeof value === 'string' ? value.trim() : '');
  }
  return lines;
}

/** A feed that is mostly not addresses is a broken download, not a list: refuse it. */
export function checkInvalidShare(lines: number, invalidLines: number): void {
  if (lines > 0 && invalidLines > lines / 2) {
    throw new FeedFormatError(`${invalidLines} of ${lines} lines are not IP addresses or CIDRs`);
  }
}

/** Checks a feed's text the way an enforcer will read it (the operator's check before sharing). */
export function checkFeedText(text: string, format: FeedFormat): { entries: number; invalidLines: number } {
  let invalidLines = 0;
  const lines = forEachFeedEntry(text, format, (line) => {
    if (!isCidr(line)) invalidLines++;
  });
  checkInvalidShare(lines, invalidLines);
  return { entries: lines - invalidLines, invalidLines };
}

export function feedVersion(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** Kept for three refresh intervals (at least ten minutes): a missed refresh does not lose it. */
export function sharedFeedTtlMs(refreshMs: number): number {
  return Math.max(3 * refreshMs, 600_000);
}

/** What the operator writes. */
export async function publishSharedFeed(
  redis: Redis,
  scope: string,
  feed: SharedFeedRef,
  text: string,
): Promise<void> {
  const key = sharedFeedKey(scope, feed.name);
  await redis
    .multi()
    .hset(key, 'text', text, 'version', feedVersion(text))
    .pexpire(key, sharedFeedTtlMs(feed.refreshMs))
    .exec();
}

/**
 * Keeps an unchanged feed (the server answered 304) for another retention period. False when
 * Redis no longer has it (restarted, evicted): it must be fetched whole and published again.
 */
export async function keepSharedFeed(redis: Redis, scope: string, feed: SharedFeedRef): Promise<boolean> {
  return (await redis.pexpire(sharedFeedKey(scope, feed.name), sharedFeedTtlMs(feed.refreshMs))) === 1;
}

/**
 * What an enforcer reads: the text (as bytes, which it hands to a parser thread without a copy)
 * and its version, or undefined when nothing is shared yet.
 */
export async function readSharedFeed(
  redis: Redis,
  scope: string,
  feed: string,
): Promise<{ text: Buffer; version: string } | undefined> {
  const [text, version] = await redis.hmgetBuffer(sharedFeedKey(scope, feed), 'text', 'version');
  return text && version ? { text, version: version.toString('utf8') } : undefined;
}
