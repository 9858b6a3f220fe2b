import { describe, expect, it } from 'vitest';
import { backgroundThreads } from '../threads/background-worker.ts';
import {
  FeedFormatError,
  feedDigest,
  OFF_THREAD_BYTES,
  parseFeed,
  parseFeedOffThread,
} from './feed-format.ts';

describe('feed formats', () => {
  it('reads plain lists with comments and blank lines', () => {
    const feed = parseFeed('# header\n\n203.0.113.0/24\n198.51.100.7 # one host\n2001:db8::/32\n', 'plain');
    expect(feed.entries).toBe(3);
    expect(feed.ranges.hasText('203.0.113.200')).toBe(true);
    expect(feed.ranges.hasText('198.51.100.7')).toBe(true);
    expect(feed.ranges.hasText('2001:db8:1::1')).toBe(true);
  });

  it('reads the range files Google and Bing publish (prefixes-json), and refuses what is not one', () => {
    const google = JSON.stringify({
      creationTime: '2026-11-28T14:46:08.000000',
      prefixes: [{ ipv6Prefix: '2001:4860:4801:10::/64' }, { ipv4Prefix: '66.249.64.0/27' }],
    });
    const feed = parseFeed(google, 'prefixes-json');
    expect(feed.entries).toBe(2);
    expect(feed.ranges.hasText('66.249.64.31')).toBe(true);
    expect(feed.ranges.hasText('66.249.64.32')).toBe(false);
    expect(feed.ranges.hasText('2001:4860:4801:10::1')).toBe(true);
    expect(() => parseFeed('<html>moved</html>', 'prefixes-json')).toThrow(FeedFormatError);
    expect(() => parseFeed('{"items": []}', 'prefixes-json')).toThrow(/no "prefixes" list/);
    expect(() =>
      parseFeed('{"prefixes": [{"x": 1}, {"y": 2}, {"ipv4Prefix": "1.2.3.0/24"}]}', 'prefixes-json'),
    ).toThrow(FeedFormatError);
  });

  it('reads FireHOL netsets', () => {
    const netset = [
      '#',
      '# firehol_level1',
      '#',
      '# Maintainer      : FireHOL',
      '# This File Date  : Thu Nov 26 10:00:00 UTC 2026',
      '0.0.0.0/8',
      '5.188.10.0/23',
      '',
    ].join('\n');
    const feed = parseFeed(netset, 'netset');
    expect(feed.entries).toBe(2);
    expect(feed.ranges.hasText('5.188.11.255')).toBe(true);
  });

  it('reads Spamhaus DROP', () => {
    const drop =
      '; Spamhaus DROP List 2026/11/26\n; Last-Modified: Thu, 26 Nov 2026\n1.10.16.0/20 ; SBL256894\n2.56.192.0/22 ; SBL459831\n';
    const feed = parseFeed(drop, 'spamhaus-drop');
    expect(feed.entries).toBe(2);
    expect(feed.ranges.hasText('1.10.31.1')).toBe(true);
    expect(feed.ranges.hasText('1.10.32.1')).toBe(false);
  });

  it('counts a stray bad line but refuses a feed that is mostly garbage', () => {
    expect(parseFeed('10.0.0.0/8\n10.1.0.0/16\nnot-an-ip\n', 'plain').invalidLines).toBe(1);
    expect(() => parseFeed('<html>\n<body>Service Unavailable</body>\n</html>\n', 'plain')).toThrow(
      FeedFormatError,
    );
  });
});

describe('large feeds, parsed off the event loop', () => {
  // 200,000 entries, IPv4 and IPv6 mixed: over the size that goes to a worker thread.
  const lines: string[] = [];
  for (let i = 0; i < 150_000; i++) lines.push(`${10 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/28`);
  for (let i = 0; i < 50_000; i++) lines.push(`2001:db8:${i.toString(16)}::/48`);
  const text = `# big\n${lines.join('\n')}\n`;

  it('gives the same set as parsing on the main thread, while the event loop keeps turning', async () => {
    expect(text.length).toBeGreaterThan(OFF_THREAD_BYTES);
    let turns = 0;
    const ticker = setInterval(() => turns++, 1);
    const off = await parseFeedOffThread(text, 'plain');
    clearInterval(ticker);
    const inline = parseFeed(text, 'plain');
    expect(off.entries).toBe(inline.entries);
    expect(off.ranges.size).toBe(inline.ranges.size);
    for (const probe of [
      '10.0.1.5',
      '10.2.73.15',
      '10.2.73.16',
      '12.0.0.1',
      '2001:db8:1f::1',
      '2001:db8:c350::1',
      '9.9.9.9',
    ]) {
      expect(off.ranges.hasText(probe), probe).toBe(inline.ranges.hasText(probe));
    }
    // Parsing on this thread would have let no timer run until it was done.
    expect(turns).toBeGreaterThan(0);
  });

  it('takes bytes as a download or Redis hands them over, copied to the worker in slices, byte for byte', async () => {
    // A view into a larger buffer, as a pooled Buffer is; several 1 MiB slices long.
    const bytes = Buffer.from(`xxxx${text}`).subarray(4);
    expect(bytes.length).toBeGreaterThan(3 << 20);
    const off = await parseFeedOffThread(bytes, 'plain');
    const inline = parseFeed(text, 'plain');
    expect(off.digest).toBe(feedDigest(text));
    expect(off.entries).toBe(inline.entries);
    expect(off.ranges.size).toBe(inline.ranges.size);
  });

  it('takes a download as the chunks it arrived in, of any sizes, byte for byte', async () => {
    const whole = Buffer.from(text);
    // Network-sized chunks, one larger than a copy slice, odd sizes across slice boundaries, and
    // the empty and one-byte chunks of a server that trickles its list.
    const sizes = [65_536, 7_001, 1_500_000, 1, 0, 300_000, 16_384, ...Array(10_000).fill(1)];
    const chunks: Uint8Array[] = [];
    for (let at = 0, i = 0; at < whole.length; i++) {
      const n = sizes[i % sizes.length]!;
      chunks.push(whole.subarray(at, at + n));
      at += n;
    }
    const off = await parseFeedOffThread({ chunks, size: whole.length }, 'plain');
    expect(off.digest).toBe(feedDigest(text));
    expect(off.entries).toBe(parseFeed(text, 'plain').entries);
    // A small download is joined and parsed here, the same way.
    const small = '203.0.113.0/24\n198.51.100.7\n';
    const smallChunks = [Buffer.from(small.slice(0, 5)), Buffer.from(small.slice(5))];
    const inline = await parseFeedOffThread({ chunks: smallChunks, size: small.length }, 'plain');
    expect(inline.digest).toBe(feedDigest(small));
    expect(inline.ranges.hasText('198.51.100.7')).toBe(true);
  });

  it('reads a large file on the worker, and does not parse the same list again', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'riskgate-feed-'));
    const file = join(dir, 'big.txt');
    writeFileSync(file, text);
    const input = { file, size: Buffer.byteLength(text) };
    const first = await parseFeedOffThread(input, 'plain', undefined);
    expect(first?.entries).toBe(parseFeed(text, 'plain').entries);
    expect(first?.digest).toBe(feedDigest(text));
    // Served again unchanged: nothing parsed, nothing to swap.
    expect(await parseFeedOffThread(input, 'plain', first!.digest)).toBeUndefined();
    writeFileSync(file, `${text}203.0.113.0/24\n`);
    const changed = await parseFeedOffThread(
      { file, size: Buffer.byteLength(text) + 15 },
      'plain',
      first!.digest,
    );
    expect(changed?.ranges.hasText('203.0.113.7')).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });

  it('parses a mid-size list (60,000 lines, ~900 KB) on a worker thread, not on the request path', async () => {
    const mid = `${lines.slice(0, 60_000).join('\n')}\n`;
    const started = backgroundThreads.lowered + backgroundThreads.normal;
    const off = await parseFeedOffThread(mid, 'plain');
    expect(backgroundThreads.lowered + backgroundThreads.normal).toBe(started + 1);
    expect(off.entries).toBe(60_000);
  });

  it('reports a broken feed from the worker as the same error', async () => {
    await expect(parseFeedOffThread(`${'not an address\n'.repeat(100_000)}`, 'plain')).rejects.toThrow(
      FeedFormatError,
    );
  });
});
