/**
 * The client address: the socket peer, or — when the peer is a trusted proxy — the right-most
 * hop of X-Forwarded-For / Forwarded that is not itself a trusted proxy. Left-most hops are
 * written by the client and never believed.
 */
import { formatIp, parseIpInto } from '../net/ip.ts';
import type { IpRangeSet } from '../net/ip-range-set.ts';

export interface ClientAddress {
  ip: string;
  family: 4 | 6;
  /** Words of the address, owned by the caller (see ip.ts). */
  words: Uint32Array;
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

export class ClientIpResolver {
  private readonly trusted: IpRangeSet;
  private readonly header: ForwardedHeader;
  private readonly words = new Uint32Array(4);

  constructor(trusted: IpRangeSet, header: ForwardedHeader) {
    this.trusted = trusted;
    this.header = header;
  }

  /** The request header this resolver reads. */
  get headerName(): ForwardedHeader {
    return this.header;
  }

  /**
   * Resolves the client. Throws ForwardedHeaderError when a trusted proxy's header holds a hop
   * that is not an address: guessing would let a hostile header pick who we think the client is.
   */
  resolve(socketAddress: string | undefined, headerValue: string | string[] | undefined): ClientAddress {
    const words = new Uint32Array(4);
    const family = parseIpInto(socketAddress ?? '', words);
    if (family === 0) throw new ForwardedHeaderError('socket address is not an IP');
    if (this.trusted.size === 0 || headerValue === undefined || !this.trusted.has(family, words)) {
      return { ip: formatIp(family, words), family, words };
    }
    const joined = Array.isArray(headerValue) ? headerValue.join(',') : headerValue;
    const hops = this.header === 'forwarded' ? forwardedForValues(joined) : joined.split(',');
    let client: ClientAddress = { ip: formatIp(family, words), family, words };
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!.trim();
      if (hop.length === 0 && this.header === 'x-forwarded-for') continue;
      const hopFamily = parseIpInto(hop, this.words);
      if (hopFamily === 0) throw new ForwardedHeaderError(`${this.header} hop is not an IP address`);
      client = { ip: formatIp(hopFamily, this.words), family: hopFamily, words: this.words.slice() };
      if (!this.trusted.has(hopFamily, this.words)) break;
    }
    return client;
  }
}
