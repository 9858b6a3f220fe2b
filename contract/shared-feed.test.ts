import { describe, expect, it } from 'vitest';
import { riskPolicySpec } from '../api/riskpolicy.ts';
import { crawlerFeedName, sharedFeedsOf } from './shared-feed.ts';

describe('shared feeds', () => {
  it('lists the URL feeds of threat feeds and crawler ranges, crawlers under names no threat feed can take', () => {
    const spec = riskPolicySpec.parse({
      selector: {},
      signals: {
        ipReputation: {
          feeds: [
            { name: 'googlebot', url: 'https://feeds.example/bad.txt' },
            { name: 'local', file: 'bad.txt' },
          ],
        },
        automation: {
          crawlers: [
            {
              name: 'googlebot',
              userAgent: 'Googlebot',
              url: 'https://developers.google.com/googlebot.json',
            },
            { name: 'bingbot', userAgent: 'bingbot', file: 'bingbot.json' },
          ],
        },
      },
    });
    expect(sharedFeedsOf(spec)).toEqual([
      {
        signal: 'ipReputation',
        name: 'googlebot',
        url: 'https://feeds.example/bad.txt',
        format: 'plain',
        refreshMs: 3_600_000,
      },
      {
        signal: 'automation',
        name: crawlerFeedName('googlebot'),
        url: 'https://developers.google.com/googlebot.json',
        format: 'prefixes-json',
        refreshMs: 86_400_000,
      },
    ]);
    expect(crawlerFeedName('googlebot')).not.toBe('googlebot');
  });
});
