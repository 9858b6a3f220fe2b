/**
 * Fetches one feed URL the way the contract says (contract/shared-feed.ts): conditional GET
 * (ETag / Last-Modified), a size cap and a timeout, the text checked as an enforcer will read it
 * before anyone is given it. A failed fetch keeps the last good text.
 */
import { request } from 'undici';
import {
  checkFeedText,
  FEED_FETCH_TIMEOUT_MS,
  FEED_USER_AGENT,
  type FeedFormat,
  readFeedAnswer,
} from '../../contract/shared-feed.ts';

export interface FetchedFeed {
  /** The new text, or undefined when the server said it has not changed. */
  text: string | undefined;
  entries: number | undefined;
}

export class FeedFetcher {
  private etag: string | undefined;
  private lastModified: string | undefined;
  private readonly url: URL;
  private readonly format: FeedFormat;
  private readonly timeoutMs: number;

  constructor(url: string, format: FeedFormat, timeoutMs = FEED_FETCH_TIMEOUT_MS) {
    this.url = new URL(url);
    this.format = format;
    this.timeoutMs = timeoutMs;
  }

  /** Forgets the validators: the next fetch asks for the whole feed. */
  forget(): void {
    this.etag = undefined;
    this.lastModified = undefined;
  }

  async fetch(): Promise<FetchedFeed> {
    const headers: Record<string, string> = { 'user-agent': FEED_USER_AGENT };
    if (this.etag) headers['if-none-match'] = this.etag;
    if (this.lastModified) headers['if-modified-since'] = this.lastModified;
    const res = await request(this.url, {
      method: 'GET',
      headers,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
    const text = await readFeedAnswer(res.statusCode, res.body);
    if (text === undefined) return { text: undefined, entries: undefined };
    const { entries } = checkFeedText(text, this.format);
    // Validators only after a good check: a cached garbage answer must not pin us to it.
    const etag = res.headers['etag'];
    const lastModified = res.headers['last-modified'];
    this.etag = typeof etag === 'string' ? etag : undefined;
    this.lastModified = typeof lastModified === 'string' ? lastModified : undefined;
    return { text, entries };
  }
}
