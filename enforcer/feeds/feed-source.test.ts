import { describe, expect, it } from 'vitest';
import { startRecordingUpstream } from '../../test/support/recording-upstream.ts';
import { checkSecurityRow } from '../../test/support/security-doc.ts';
import { FeedSource } from './feed-source.ts';

describe('feed from a URL', () => {
  it('uses conditional GET, keeps the last good list on errors and garbage, and says it is stale', async () => {
    const server = await startRecordingUpstream();
    let body = '203.0.113.0/24\n';
    let mode: 'ok' | 'down' | 'garbage' = 'ok';
    server.respond = (req, res) => {
      if (mode === 'down') {
        res.statusCode = 503;
        res.end('maintenance');
        return;
      }
      if (mode === 'garbage') {
        res.end('<html>\n<h1>Oops</h1>\n</html>\n');
        return;
      }
      const etag = `"${body.length}"`;
      if (req.headers['if-none-match'] === etag) {
        res.statusCode = 304;
        res.end();
        return;
      }
      res.setHeader('etag', etag);
      res.end(body);
    };
    const feed = new FeedSource({
      name: 'remote',
      url: `${server.url}/feed.txt`,
      format: 'plain',
      refreshMs: 60_000,
      category: 'test',
      weight: 90,
      timeoutMs: 300,
    });
    try {
      await feed.refresh();
      expect(feed.ranges.hasText('203.0.113.5')).toBe(true);
      expect(feed.status()).toMatchObject({ loaded: true, entries: 1, stale: false });

      await feed.refresh();
      expect(server.requests.at(-1)!.headers['if-none-match']).toBe('"15"');

      body = '203.0.113.0/24\n198.51.100.0/24\n';
      await feed.refresh();
      expect(feed.ranges.hasText('198.51.100.1')).toBe(true);

      mode = 'down';
      await feed.refresh();
      expect(feed.ranges.hasText('198.51.100.1')).toBe(true);
      expect(feed.status()).toMatchObject({ stale: true, lastError: 'feed URL answered 503' });

      mode = 'garbage';
      await feed.refresh();
      expect(feed.ranges.hasText('198.51.100.1')).toBe(true);
      expect(feed.status().stale).toBe(true);
      expect(feed.status().lastError).toMatch(/not IP addresses/);

      mode = 'ok';
      await feed.refresh();
      expect(feed.status().stale).toBe(false);

      // A feed server that hangs: the refresh gives up at the timeout, the list stays.
      server.respond = () => {};
      await feed.refresh();
      expect(feed.ranges.hasText('198.51.100.1')).toBe(true);
      expect(feed.status()).toMatchObject({ stale: true });
      expect(feed.status().lastError).toMatch(/timeout/i);
      checkSecurityRow(
        'fault-feed',
        'down (503), garbage (HTML) and hanging (timeout): each time the last good list (2 ranges) stayed and the feed was marked stale; fresh again after a good refresh',
      );
    } finally {
      feed.stop();
      await server.close();
    }
  });
});
