/**
 * Threat-feed parsing into a range set: plain lists (one IP or CIDR a line), FireHOL .netset
 * (the same, with # headers) and Spamhaus DROP (`CIDR ; SBL id`), read line by line as the
 * contract says (contract/shared-feed.ts). A line that is not an address is counted, not fatal:
 * real feeds carry the odd stray line, and one must not cost us the other million.
 */
import { checkInvalidShare, type FeedFormat, forEachFeedEntry } from '../../contract/shared-feed.ts';
import { type IpRangeSet, IpRangeSetBuilder } from '../net/ip-range-set.ts';

export { type FeedFormat, FeedFormatError } from '../../contract/shared-feed.ts';

export interface ParsedFeed {
  ranges: IpRangeSet;
  entries: number;
  invalidLines: number;
}

export function parseFeed(text: string, format: FeedFormat): ParsedFeed {
  const builder = new IpRangeSetBuilder();
  let invalidLines = 0;
  const lines = forEachFeedEntry(text, format, (line) => {
    if (!builder.add(line)) invalidLines++;
  });
  checkInvalidShare(lines, invalidLines);
  return { ranges: builder.build(), entries: builder.count, invalidLines };
}
