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
}

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

  constructor(trusted: IpRangeSet, header: ForwardedHeader, ipv6PrefixLength = 64) {
    this.trusted = trusted;
    this.header = header;
    this.ipv6PrefixLength = ipv6PrefixLength;
  }

  /** The request header this resolver reads. */
  get headerName(): ForwardedHeader {
    return this.header;
  }

  private address(text: string): (ClientAddress & { trusted: boolean }) | undefined {
    let address = this.known.get(text);
    if (address === undefined) {
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
      this.known.set(text, address);
    }
    return address;
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
      const hop = this.address(hops[i]!.trim());
      if (hop === undefined) throw new ForwardedHeaderError('forwarded hop is not an IP address');
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
        const hop = this.address(hopText);
        if (hop === undefined) throw new ForwardedHeaderError('x-forwarded-for hop is not an IP address');
        client = hop;
        if (!hop.trusted) break;
      }
      if (comma === -1) break;
      end = comma;
    }
    return client;
  }
}
