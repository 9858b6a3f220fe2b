/**
 * IP parsing for the hot path: no regular expressions, no allocation beyond the result.
 * Addresses become four 32-bit words (IPv4 in the last word, family 4), so one comparison
 * routine serves both families. IPv4-mapped IPv6 (::ffff:a.b.c.d) is normalised to IPv4,
 * which is how Node reports IPv4 peers on a dual-stack socket.
 */

export interface ParsedIp {
  family: 4 | 6;
  /** Big-endian 32-bit words; IPv4 uses only words[3]. */
  words: Uint32Array;
}

export function parseIPv4(text: string, start = 0, end = text.length): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      // Leading zeros are refused: "010" is octal to some parsers and decimal to others.
      if (digits === 1 && octet === 0) return -1;
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return (value * 256 + octet) >>> 0;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Parses IPv6 into 8 groups; returns false when invalid. */
function parseIPv6Groups(text: string, start: number, end: number, groups: Uint16Array): boolean {
  let count = 0;
  let gap = -1;
  let i = start;
  if (end - start < 2) return false;
  if (text.charCodeAt(i) === 58) {
    if (text.charCodeAt(i + 1) !== 58) return false;
    gap = 0;
    i += 2;
    if (i === end) {
      groups.fill(0);
      return true;
    }
  }
  while (i < end) {
    if (count === 8) return false;
    let value = 0;
    let digits = 0;
    const groupStart = i;
    while (i < end) {
      const h = hexValue(text.charCodeAt(i));
      if (h < 0) break;
      value = value * 16 + h;
      if (++digits > 4) return false;
      i++;
    }
    if (i < end && text.charCodeAt(i) === 46) {
      // Embedded IPv4 in the last 32 bits.
      const v4 = parseIPv4(text, groupStart, end);
      if (v4 < 0 || count > 6) return false;
      groups[count++] = v4 >>> 16;
      groups[count++] = v4 & 0xffff;
      i = end;
      break;
    }
    if (digits === 0) return false;
    groups[count++] = value;
    if (i === end) break;
    if (text.charCodeAt(i) !== 58) return false;
    i++;
    if (i < end && text.charCodeAt(i) === 58) {
      if (gap !== -1) return false;
      gap = count;
      i++;
      if (i === end) break;
    } else if (i === end) {
      return false;
    }
  }
  if (gap === -1) return count === 8;
  if (count === 8) return false;
  const tail = count - gap;
  for (let k = 0; k < tail; k++) groups[7 - k] = groups[count - 1 - k]!;
  for (let k = gap; k < 8 - tail; k++) groups[k] = 0;
  return true;
}

const scratchGroups = new Uint16Array(8);

/**
 * Parses an IPv4 or IPv6 address (a zone id such as %eth0 is ignored) into `out`: the whole
 * text, or its first `length` characters (a CIDR's address, without cutting a string from it).
 * Returns the family, or 0 when the text is not an address.
 */
export function parseIpInto(text: string, out: Uint32Array, length = text.length): 0 | 4 | 6 {
  let end = length;
  const zone = text.indexOf('%');
  if (zone !== -1 && zone < end) end = zone;
  const colon = text.indexOf(':');
  if (colon === -1 || colon >= length) {
    const v4 = parseIPv4(text, 0, end);
    if (v4 < 0) return 0;
    out[0] = 0;
    out[1] = 0;
    out[2] = 0;
    out[3] = v4;
    return 4;
  }
  if (!parseIPv6Groups(text, 0, end, scratchGroups)) return 0;
  const g = scratchGroups;
  out[0] = ((g[0]! << 16) | g[1]!) >>> 0;
  out[1] = ((g[2]! << 16) | g[3]!) >>> 0;
  out[2] = ((g[4]! << 16) | g[5]!) >>> 0;
  out[3] = ((g[6]! << 16) | g[7]!) >>> 0;
  if (out[0] === 0 && out[1] === 0 && out[2] === 0xffff) {
    out[2] = 0;
    return 4;
  }
  return 6;
}

export function parseIp(text: string): ParsedIp | undefined {
  const words = new Uint32Array(4);
  const family = parseIpInto(text, words);
  return family === 0 ? undefined : { family, words };
}

export function formatIPv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/** RFC 5952 canonical text for an address given as words. */
export function formatIp(family: 4 | 6, words: Uint32Array): string {
  if (family === 4) return formatIPv4(words[3]!);
  const groups: number[] = [];
  for (let w = 0; w < 4; w++) groups.push(words[w]! >>> 16, words[w]! & 0xffff);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Canonical text of an address, or undefined when it is not one. */
export function normalizeIp(text: string): string | undefined {
  const words = new Uint32Array(4);
  const family = parseIpInto(text, words);
  return family === 0 ? undefined : formatIp(family, words);
}

/**
 * The network of an address: the address's first `bits` bits, written as `address/bits` (or the
 * address alone when it keeps all of them). IPv6 hosts are given a /64 each, and a client can
 * hop between its addresses at will: counting them by prefix counts one client once.
 */
export function prefixOf(family: 4 | 6, words: Uint32Array, bits: number): string {
  const total = family === 4 ? 32 : 128;
  if (bits >= total) return formatIp(family, words);
  const masked = new Uint32Array(4);
  const offset = 128 - total;
  for (let w = 0; w < 4; w++) {
    const keep = Math.max(0, Math.min(32, offset + bits - w * 32));
    const mask = keep === 0 ? 0 : keep === 32 ? 0xffffffff : (0xffffffff << (32 - keep)) >>> 0;
    masked[w] = (words[w]! & mask) >>> 0;
  }
  return `${formatIp(family, masked)}/${bits}`;
}
