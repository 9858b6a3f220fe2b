/**
 * Automation: clients that are plainly not the browser or person they present as. Every check is
 * something a real browser does not produce, from what browsers send as documented by their
 * makers and seen in our own Chromium tests — not a copied fingerprint database:
 *
 * - Chromium 76+ sends Sec-Fetch-Mode on every request and Chromium 89+ sec-ch-ua, Firefox 90+
 *   Sec-Fetch-Mode — to secure origins only (HTTPS, or loopback), so these are checked only when
 *   the request came over HTTPS (a trusted proxy's X-Forwarded-Proto or Forwarded proto) or to a
 *   loopback host. Every browser sends Accept-Language with a navigation.
 * - HTTP libraries and tools name themselves (curl, python-requests, Go-http-client …): on a
 *   request with no subject (not a token, not an API key), that is a script.
 * - No User-Agent at all; HTTP/1.0, which no browser of this decade speaks.
 * - A crawler's user agent (Googlebot …) from outside the ranges that crawler publishes is an
 *   impostor; from inside them, the request is a verified crawler and `credit` points come off
 *   (by default what the hosting-network penalty adds).
 *
 * These are guesses about the client, not proof: the contributions challenge at most, like
 * levers (decision/decide.ts). A browser then passes the challenge page without noticing; a
 * script pays for every attempt. One contribution per request, the strongest.
 */
import { resolve } from 'node:path';
import { parseDuration } from '../../api/duration.ts';
import { crawlerFeedName } from '../../contract/shared-feed.ts';
import type { RequestContext } from '../context/request-context.ts';
import { FeedSource } from '../feeds/feed-source.ts';
import { type CompiledSignal, type Contribution, defineSignal } from './signal.ts';

const LIBRARY =
  /^(curl|wget|python-requests|python-urllib|python-httpx|aiohttp|httpx|go-http-client|okhttp|java\/|apache-httpclient|libwww-perl|lwp::|node-fetch|axios|undici|got |postmanruntime|scrapy|httpie|ruby|php\/|guzzlehttp|rest-client|winhttp|powershell)/i;

interface Crawler {
  name: string;
  token: string;
  credit: number;
  feed: FeedSource;
}

/** A browser family and the headers it always sends to a secure origin, from its user agent. */
function expectedHeaders(ua: string): { family: string; headers: readonly string[] } | undefined {
  // Edge, Opera, Brave, Samsung Internet and other Chromium browsers carry Chrome/NN too; Chrome
  // on iOS (CriOS) is WebKit and does not.
  const chrome = /\bChrome\/(\d+)/.exec(ua);
  if (chrome) {
    const version = Number(chrome[1]);
    if (version >= 89) return { family: 'chromium', headers: ['sec-fetch-mode', 'sec-ch-ua'] };
    if (version >= 76) return { family: 'chromium', headers: ['sec-fetch-mode'] };
    return undefined;
  }
  const firefox = /\bFirefox\/(\d+)/.exec(ua);
  if (firefox && Number(firefox[1]) >= 90) return { family: 'firefox', headers: ['sec-fetch-mode'] };
  return undefined;
}

/** Whether the browser saw this origin as secure: HTTPS at the edge, or a loopback host. */
function secureOrigin(ctx: RequestContext): boolean {
  const h = ctx.headers;
  const proto = h['x-forwarded-proto'];
  if (typeof proto === 'string' && proto.split(',')[0]!.trim().toLowerCase() === 'https') return true;
  const forwarded = h['forwarded'];
  if (typeof forwarded === 'string' && /proto=(?:"?)https/i.test(forwarded.split(',')[0]!)) return true;
  const host = h['host'] ?? h[':authority'];
  return typeof host === 'string' && /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/i.test(host);
}

function isNavigation(ctx: RequestContext): boolean {
  const mode = ctx.headers['sec-fetch-mode'];
  if (mode !== undefined) return mode === 'navigate';
  const accept = ctx.headers['accept'];
  return ctx.method === 'GET' && typeof accept === 'string' && accept.includes('text/html');
}

export class AutomationSignal implements CompiledSignal {
  readonly name = 'automation';
  readonly feeds: readonly FeedSource[];
  private readonly weight: number;
  private readonly crawlers: readonly Crawler[];

  constructor(weight: number, crawlers: readonly Crawler[]) {
    this.weight = weight;
    this.crawlers = crawlers;
    this.feeds = crawlers.map((c) => c.feed);
  }

  score(ctx: RequestContext, _state: unknown, _slots: unknown, out: Contribution[]): void {
    const ua = ctx.userAgent;
    const lowered = this.crawlers.length > 0 ? ua.toLowerCase() : '';
    for (const c of this.crawlers) {
      if (!lowered.includes(c.token)) continue;
      const { family, words, hidden } = ctx.client;
      if (!hidden && c.feed.ranges.has(family, words)) {
        out.push({ code: 'automation.verified_crawler', points: -c.credit, detail: c.name });
      } else {
        out.push({ code: 'automation.unverified_crawler', points: this.weight, detail: c.name, lever: true });
      }
      return;
    }
    const finding = this.finding(ctx, ua);
    if (finding !== undefined) out.push({ ...finding, lever: true });
  }

  private finding(ctx: RequestContext, ua: string): Omit<Contribution, 'lever'> | undefined {
    const w = this.weight;
    if (ua === '') return { code: 'automation.no_user_agent', points: w, detail: '' };
    if (ctx.subject.kind === 'anonymous' && LIBRARY.test(ua)) {
      return { code: 'automation.library_client', points: w, detail: ua.slice(0, 40) };
    }
    const browser = expectedHeaders(ua);
    if (browser !== undefined) {
      if (secureOrigin(ctx)) {
        for (const header of browser.headers) {
          if (ctx.headers[header] === undefined) {
            return {
              code: 'automation.browser_headers_missing',
              points: w,
              detail: `${browser.family} without ${header}`,
            };
          }
        }
      }
      if (isNavigation(ctx) && ctx.headers['accept-language'] === undefined) {
        return {
          code: 'automation.browser_headers_missing',
          points: w,
          detail: `${browser.family} navigation without accept-language`,
        };
      }
    }
    if (ctx.httpVersion === '1.0')
      return { code: 'automation.http10', points: Math.round(w / 2), detail: '' };
    return undefined;
  }

  stop(): void {
    for (const c of this.crawlers) c.feed.stop();
  }
}

export const automation = defineSignal({
  name: 'automation',
  usesLocation: false,
  reasons: [
    {
      code: 'automation.browser_headers_missing',
      points: 'weight',
      when: 'a Chromium (76+: Sec-Fetch-Mode; 89+: also sec-ch-ua) or Firefox (90+: Sec-Fetch-Mode) user agent without those headers on a request over HTTPS or to loopback, or a browser navigation without Accept-Language',
      lever: true,
    },
    {
      code: 'automation.library_client',
      points: 'weight',
      when: 'an HTTP library or tool user agent (curl, python-requests, Go-http-client, okhttp, Java, node-fetch, axios …) on a request with no token or API key',
      lever: true,
    },
    { code: 'automation.no_user_agent', points: 'weight', when: 'no User-Agent header', lever: true },
    { code: 'automation.http10', points: 'half the weight', when: 'an HTTP/1.0 request', lever: true },
    {
      code: 'automation.unverified_crawler',
      points: 'weight',
      when: "a crawler's user agent from outside the address ranges that crawler publishes",
      lever: true,
    },
    {
      code: 'automation.verified_crawler',
      points: 'minus the crawler’s `credit`',
      when: "a crawler's user agent from inside its published ranges",
    },
  ],
  compile(spec, ctx) {
    const previous = new Map((ctx.previous?.feeds ?? []).map((f) => [f.spec.name, f]));
    const crawlers = spec.crawlers.map((c): Crawler => {
      const feed = new FeedSource(
        {
          name: crawlerFeedName(c.name),
          url: c.url,
          file: c.file === undefined ? undefined : resolve(ctx.baseDir, c.file),
          format: c.format,
          refreshMs: parseDuration(c.refreshInterval),
          category: 'verified-crawler',
          weight: 0,
          required: false,
          ...(c.url && ctx.sharedFeeds ? { shared: ctx.sharedFeeds } : {}),
        },
        ctx.onFeedChange,
      );
      const before = previous.get(feed.spec.name);
      if (before && before.spec.url === feed.spec.url && before.spec.file === feed.spec.file)
        feed.adopt(before);
      return { name: c.name, token: c.userAgent.toLowerCase(), credit: c.credit, feed };
    });
    return new AutomationSignal(spec.weight, crawlers);
  },
});
