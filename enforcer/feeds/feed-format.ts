/**
 * Threat-feed parsers: plain lists (one IP or CIDR a line), FireHOL .netset (the same, with #
 * headers) and Spamhaus DROP (`CIDR ; SBL id`). A line that is not an address is counted, not
 * fatal: real feeds carry the odd stray line, and one must not cost us the other million.
 */
import { type IpRangeSet, IpRangeSetBuilder } from '../net/ip-range-set.ts';

export type FeedFormat = 'plain' | 'netset' | 'spamhaus-drop';

export interface ParsedFeed {
  ranges: IpRangeSet;
  entries: number;
  invalidLines: number;
}

export class FeedFormatError extends Error {
  readonly code = 'RG_ERR_FEED_FORMAT';
}

export function parseFeed(text: string, format: FeedFormat): ParsedFeed {
  const builder = new IpRangeSetBuilder();
  let invalidLines = 0;
  let lines = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    let line = text.slice(start, end);
    start = end + 1;
    const comment = line.indexOf(format === 'spamhaus-drop' ? ';' : '#');
    if (comment !== -1) line = line.slice(0, comment);
    if (format !== 'spamhaus-drop') {
      const hash = line.indexOf('#');
      if (hash !== -1) line = line.slice(0, hash);
    }
    line = line.trim();
    if (line === '') continue;
    lines++;
    if (!builder.add(line)) invalidLines++;
  }
  // A feed that is mostly garbage is a broken download, not a list: keep the last good one.
  if (lines > 0 && invalidLines > lines / 2) {
    throw new FeedFormatError(`${invalidLines} of ${lines} lines are not IP addresses or CIDRs`);
  }
  return { ranges: builder.build(), entries: builder.count, invalidLines };
}
