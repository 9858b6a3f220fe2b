/**
 * One threat feed kept fresh: read from a file (reloaded when its mtime changes) or fetched from
 * a URL with conditional GET (ETag / Last-Modified), on the feed's interval, off the request
 * path. A failed refresh keeps the last good list and marks the feed stale.
 */
import { stat } from 'node:fs/promises';
import {
  FEED_FETCH_TIMEOUT_MS,
  FEED_MAX_BYTES,
  FEED_USER_AGENT,
  readFeedAnswerChunks,
} from '../../contract/shared-feed.ts';
import { Agent, request } from '../net/http-client.ts';
import { IpRangeSet } from '../net/ip-range-set.ts';
import { type FeedFormat, type FeedInput, parseFeedOffThread } from './feed-format.ts';

export interface FeedSpec {
  name: string;
  url?: string | undefined;
  /** Absolute path. */
  file?: string | undefined;
  format: FeedFormat;
  refreshMs: number;
  category: string;
  weight: number;
  /** The enforcer is not ready until this feed has loaded once. */
  required?: boolean;
  /** A feed URL that has not answered in this long has failed this refresh. Default 30 s. */
  timeoutMs?: number;
  /**
   * In a cluster the operator fetches URL feeds once and shares them (Redis): read from there,
   * and fetch the URL only when nothing is shared yet.
   */
  shared?: SharedFeeds;
}

export interface SharedFeeds {
  read(name: string): Promise<{ text: string | Uint8Array; version: string } | undefined>;
}

export interface FeedStatus {
  name: string;
  entries: number;
  loaded: boolean;
  /** Epoch ms of the last successful load, 0 if never. */
  loadedAt: number;
  lastError?: string;
  stale: boolean;
  required: boolean;
}

/** The first retry after a failed load; doubled each failure, up to the refresh interval. */
const FIRST_RETRY_MS = 5_000;

/** Connections to feed servers, shared by every feed; made when the first URL feed is fetched. */
let feedAgent: InstanceType<typeof Agent> | undefined;

export class FeedSource {
  readonly spec: FeedSpec;
  ranges: IpRangeSet = IpRangeSet.empty();
  private entries = 0;
  private loadedAt = 0;
  private lastError: string | undefined;
  private etag: string | undefined;
  private lastModified: string | undefined;
  private fileMtime = -1;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  /** Digest of the list running, so that the same list served again is not parsed again. */
  private digest: string | undefined;
  private readonly onChange: (source: FeedSource) => void;
  private sharedVersion: string | undefined;
  private failures = 0;

  constructor(spec: FeedSpec, onChange: (source: FeedSource) => void = () => {}) {
    this.spec = spec;
    this.onChange = onChange;
  }

  status(now = Date.now()): FeedStatus {
    return {
      name: this.spec.name,
      entries: this.entries,
      loaded: this.loadedAt > 0,
      loadedAt: this.loadedAt,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      stale:
        this.loadedAt === 0 || now - this.loadedAt > this.spec.refreshMs * 3 || this.lastError !== undefined,
      required: this.spec.required === true,
    };
  }

  /** Loads once now; later refreshes run on the interval until stop(). */
  async start(): Promise<void> {
    await this.refresh();
    this.schedule();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Takes over an earlier source's list and validators, so a config reload costs no refetch. */
  adopt(previous: FeedSource): void {
    this.ranges = previous.ranges;
    this.entries = previous.entries;
    this.loadedAt = previous.loadedAt;
    this.etag = previous.etag;
    this.lastModified = previous.lastModified;
    this.fileMtime = previous.fileMtime;
  }

  /** On the interval; sooner after a failure (a feed unreachable at start must not wait an hour). */
  private schedule(): void {
    const delay =
      this.failures === 0
        ? this.spec.refreshMs
        : Math.min(this.spec.refreshMs, FIRST_RETRY_MS * 2 ** Math.min(this.failures - 1, 16));
    this.timer = setTimeout(() => {
      void this.refresh().finally(() => {
        if (this.timer) this.schedule();
      });
    }, delay);
    this.timer.unref();
  }

  refresh(): Promise<void> {
    this.refreshing ??= this.load()
      .then(async (loaded) => {
        if (loaded !== undefined) {
          const parsed = await parseFeedOffThread(loaded.text, this.spec.format, this.digest);
          if (parsed !== undefined) {
            this.ranges = parsed.ranges;
            this.entries = parsed.entries;
            this.digest = parsed.digest;
          }
          // Validators only after a good parse: a cached garbage response must not pin us.
          loaded.commit();
          // The same list served again (a touched file, a server without validators) changes nothing.
          if (parsed !== undefined) this.onChange(this);
        }
        this.loadedAt = Date.now();
        this.lastError = undefined;
        this.failures = 0;
      })
      .catch((err: Error) => {
        this.lastError = err.message;
        this.failures++;
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  /** The new text, or undefined when unchanged since the last good load. */
  private async load(): Promise<{ text: FeedInput; commit: () => void } | undefined> {
    if (this.spec.file) {
      const info = await stat(this.spec.file);
      if (info.mtimeMs === this.fileMtime && this.loadedAt > 0) return undefined;
      if (info.size > FEED_MAX_BYTES) throw new Error(`feed file larger than ${FEED_MAX_BYTES} bytes`);
      // Read by the parser, off the event loop when the feed is large.
      return {
        text: { file: this.spec.file, size: info.size },
        commit: () => {
          this.fileMtime = info.mtimeMs;
        },
      };
    }
    if (this.spec.shared) {
      const shared = await this.spec.shared.read(this.spec.name).catch(() => undefined);
      if (shared) {
        if (shared.version === this.sharedVersion && this.loadedAt > 0) return undefined;
        return {
          text: shared.text,
          commit: () => {
            this.sharedVersion = shared.version;
          },
        };
      }
    }
    const headers: Record<string, string> = { 'user-agent': FEED_USER_AGENT };
    if (this.etag) headers['if-none-match'] = this.etag;
    if (this.lastModified) headers['if-modified-since'] = this.lastModified;
    const url = new URL(this.spec.url!);
    feedAgent ??= new Agent();
    const res = await request(feedAgent, {
      origin: url.origin,
      path: url.pathname + url.search,
      method: 'GET',
      headers,
      headersTimeout: this.spec.timeoutMs ?? FEED_FETCH_TIMEOUT_MS,
      bodyTimeout: this.spec.timeoutMs ?? FEED_FETCH_TIMEOUT_MS,
    });
    const text = await readFeedAnswerChunks(res.statusCode, res.body);
    if (text === undefined) return undefined;
    const etag = res.headers['etag'];
    const lastModified = res.headers['last-modified'];
    return {
      text,
      commit: () => {
        this.etag = typeof etag === 'string' ? etag : undefined;
        this.lastModified = typeof lastModified === 'string' ? lastModified : undefined;
      },
    };
  }
}
