/**
 * The client address: the socket peer, or — when the peer is a trusted proxy — the right-most
 * hop of X-Forwarded-For / Forwarded that is not itself a trusted proxy. Left-most hops are
 * written by the client and never believed.
 */
import type { ClientLocation } from '../geo/geo-lookup.ts';
import { formatIp, parseIpInto, prefixOf } from '../net/ip.ts';
import type { IpRangeSet } from '../net/ip-range-set.ts';
import { BoundedCache } from '../state/bounded-cache.ts';

export interface ClientAddress {
  /** The address, canonical; or, for a client a trusted proxy withheld, what it wrote instead. */
  ip: string;
  /**
   * Who the client is, for counting and rate limits: the IPv4 address, or the IPv6 network of
   * the policy's prefix length (a /64 by default), since one host holds a whole /64.
   */
  key: string;
  family: 4 | 6;
  /** Words of the address; shared between requests, never written. */
  words: Uint32Array;
  /** Where the address is, looked up once per resolved address and kept with it. */
  location?: ClientLocation;
  /**
   * A trusted proxy withheld the address (RFC 7239 `for=unknown`, or an obfuscated `for=_id`):
   * nothing is looked up by address, and the obfuscated id (stable per client) is the key.
   * `unknown` has no key: such clients are not counted one by one.
   */
  hidden?: true;
}

/** The longest text of an address worth remembering: IPv6 in full with an IPv4 tail is 45. */
const MAX_ADDRESS_TEXT = 45;
const OBFUSCATED = /^_[A-Za-z0-9._-]{1,64}$/;
const NO_WORDS = new Uint32Array(4);

export class ForwardedHeaderError extends Error {
  readonly code = 'RG_ERR_BAD_FORWARDED';
}

export type ForwardedHeader = 'x-forwarded-for' | 'forwarded';

/** Splits `Forwarded` into its for= values, right to left order preserved as written. */
function forwardedForValues(header: string): string[] {
  const values: string[] = [];
  for (const element of header.split(',')) {
    for (const pair of element.split(';')) {
      const eq = pair.indexOf('=');
      if (eq === -1) continue;
      if (pair.slice(0, eq).trim().toLowerCase() !== 'for') continue;
      let value = pair.slice(eq + 1).trim();
      if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
      if (value.startsWith('[')) {
        const close = value.indexOf(']');
        value = close === -1 ? '' : value.slice(1, close);
      } else if (value.indexOf(':') !== -1 && value.indexOf(':') === value.lastIndexOf(':')) {
        value = value.slice(0, value.indexOf(':')); // IPv4 with a port
      }
      values.push(value);
    }
  }
  return values;
}

/** IPv4 text that parsed is canonical unless it carries a zone; no need to format it again. */
function canonicalText(text: string, family: 4 | 6, words: Uint32Array): string {
  return family === 4 && text.indexOf(':') === -1 && text.indexOf('%') === -1
    ? text
    : formatIp(family, words);
}

export class ClientIpResolver {
  private readonly trusted: IpRangeSet;
  private readonly header: ForwardedHeader;
  /**
   * Parsed addresses by their text as received. Real traffic repeats its addresses, so most
   * requests resolve their client with a lookup; the entries are shared and never mutated.
   */
  private readonly known = new BoundedCache<string, ClientAddress & { trusted: boolean }>({ max: 50_000 });

  private readonly ipv6PrefixLength: number;
  private readonly hiddenClients: 'accept' | 'refuse';

  constructor(
    trusted: IpRangeSet,
    header: ForwardedHeader,
    ipv6PrefixLength = 64,
    hiddenClients: 'accept' | 'refuse' = 'accept',
  ) {
    this.trusted = trusted;
    this.header = header;
    this.ipv6PrefixLength = ipv6PrefixLength;
    this.hiddenClients = hiddenClients;
  }

  /** The request header this resolver reads. */
  get headerName(): ForwardedHeader {
    return this.header;
  }

  /**
   * A hop's address. `fromHeader`: written by a proxy, where a zone id (`%eth0`) means nothing
   * and is refused — and a text longer than an address is never remembered, so a header cannot
   * fill the cache.
   */
  private address(text: string, fromHeader = false): (ClientAddress & { trusted: boolean }) | undefined {
    let address = this.known.get(text);
    if (address === undefined) {
      if (fromHeader && (text.length > MAX_ADDRESS_TEXT || text.indexOf('%') !== -1)) return undefined;
      const words = new Uint32Array(4);
      const family = parseIpInto(text, words);
      if (family === 0) return undefined;
      const ip = canonicalText(text, family, words);
      address = {
        ip,
        key: family === 4 ? ip : prefixOf(6, words, this.ipv6PrefixLength),
        family,
        words,
        trusted: this.trusted.size > 0 && this.trusted.has(family, words),
        location: undefined,
      };
      if (text.length <= MAX_ADDRESS_TEXT) this.known.set(text, address);
    }
    return address;
  }

  /** A hop that is not an address: a withheld client (`unknown`, `_id`), or an error. */
  private hop(text: string): ClientAddress & { trusted: boolean } {
    const address = this.address(text, true);
    if (address !== undefined) return address;
    const withheld = text.toLowerCase() === 'unknown' ? 'unknown' : OBFUSCATED.test(text) ? text : undefined;
    if (withheld === undefined) throw new ForwardedHeaderError('forwarded hop is not an IP address');
    if (this.hiddenClients === 'refuse')
      throw new ForwardedHeaderError('the proxy withheld the client address');
    return {
      ip: withheld,
      key: withheld === 'unknown' ? '' : withheld,
      family: 6,
      words: NO_WORDS,
      trusted: false,
      hidden: true,
      location: undefined,
    };
  }

  /**
   * Resolves the client. Throws ForwardedHeaderError when a trusted proxy's header holds a hop
   * that is not an address: guessing would let a hostile header pick who we think the client is.
   */
  resolve(socketAddress: string | undefined, headerValue: string | string[] | undefined): ClientAddress {
    const peer = this.address(socketAddress ?? '');
    if (peer === undefined) throw new ForwardedHeaderError('socket address is not an IP');
    if (headerValue === undefined || !peer.trusted) return peer;
    const joined = Array.isArray(headerValue) ? headerValue.join(',') : headerValue;
    if (this.header === 'x-forwarded-for') return this.rightmostUntrusted(joined, peer);
    const hops = forwardedForValues(joined);
    let client: ClientAddress = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = this.hop(hops[i]!.trim());
      client = hop;
      if (!hop.trusted) break;
    }
    return client;
  }

  /** X-Forwarded-For read right to left without splitting it: one hop is the common case. */
  private rightmostUntrusted(header: string, peer: ClientAddress): ClientAddress {
    let client = peer;
    let end = header.length;
    for (;;) {
      const comma = end > 0 ? header.lastIndexOf(',', end - 1) : -1;
      const hopText = header.slice(comma + 1, end).trim();
      if (hopText.length > 0) {
        const hop = this.hop(hopText);
        client = hop;
        if (!hop.trusted) break;
      }
      if (comma === -1) break;
      end = comma;
    }
    return client;
  }
}
