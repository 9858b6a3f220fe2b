import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IpRangeSet } from '../net/ip-range-set.ts';
import { ClientIpResolver, ForwardedHeaderError } from './client-ip.ts';

const trusted = IpRangeSet.from(['127.0.0.0/8', '::1', '10.0.0.0/8']);
const xff = new ClientIpResolver(trusted, 'x-forwarded-for');
const fwd = new ClientIpResolver(trusted, 'forwarded');
/** No trusted proxies: resolves a socket address alone. */
const direct = new ClientIpResolver(IpRangeSet.empty(), 'x-forwarded-for');

describe('client IP', () => {
  it.each([
    ['untrusted peer: header ignored', '198.51.100.1', '203.0.113.9', '198.51.100.1'],
    ['trusted peer: right-most hop', '127.0.0.1', '203.0.113.9', '203.0.113.9'],
    ['client-written left hops ignored', '127.0.0.1', '1.1.1.1, 203.0.113.9', '203.0.113.9'],
    ['trusted hops skipped', '127.0.0.1', '203.0.113.9, 10.1.2.3', '203.0.113.9'],
    ['all trusted: left-most', '127.0.0.1', '10.0.0.1, 10.0.0.2', '10.0.0.1'],
    ['IPv4-mapped peer', '::ffff:127.0.0.1', '2001:db8::5', '2001:db8::5'],
    ['IPv6 peer', '::1', '::ffff:203.0.113.9', '203.0.113.9'],
    ['no header', '127.0.0.1', undefined, '127.0.0.1'],
    ['empty hops skipped', '127.0.0.1', ' , 203.0.113.9, ,', '203.0.113.9'],
    ['only commas: the peer', '127.0.0.1', ',,', '127.0.0.1'],
    ['leading comma, all trusted', '127.0.0.1', ',10.0.0.1', '10.0.0.1'],
    ['IPv6 hop in canonical form', '127.0.0.1', '2001:DB8:0:0::1', '2001:db8::1'],
  ])('%s', (_name, peer, header, expected) => {
    expect(xff.resolve(peer, header).ip).toBe(expected);
  });

  it('resolves each peer to itself when peers alternate, trusted or not, with a bad one between', () => {
    const resolver = new ClientIpResolver(trusted, 'x-forwarded-for');
    const header = '203.0.113.9';
    for (let i = 0; i < 3; i++) {
      expect(resolver.resolve('127.0.0.1', header).ip).toBe('203.0.113.9');
      expect(resolver.resolve('127.0.0.1', header).ip).toBe('203.0.113.9');
      expect(resolver.resolve('198.51.100.1', header).ip).toBe('198.51.100.1');
      expect(() => resolver.resolve('not-an-ip', header)).toThrow(ForwardedHeaderError);
      expect(() => resolver.resolve(undefined, header)).toThrow(ForwardedHeaderError);
      expect(resolver.resolve('10.0.0.7', undefined).ip).toBe('10.0.0.7');
    }
  });

  it('rejects a hop that is not an address when it would decide the client', () => {
    expect(() => xff.resolve('127.0.0.1', '1.2.3.4, evil')).toThrow(ForwardedHeaderError);
    // A garbage hop beyond the first untrusted one is the client's own text and harmless.
    expect(xff.resolve('127.0.0.1', 'evil, 203.0.113.9').ip).toBe('203.0.113.9');
  });

  it('parses RFC 7239 Forwarded', () => {
    expect(fwd.resolve('127.0.0.1', 'for=192.0.2.60;proto=http;by=203.0.113.43').ip).toBe('192.0.2.60');
    expect(fwd.resolve('127.0.0.1', 'for="[2001:db8:cafe::17]:4711"').ip).toBe('2001:db8:cafe::17');
    expect(fwd.resolve('127.0.0.1', 'for=1.1.1.1, for=192.0.2.43:8080').ip).toBe('192.0.2.43');
  });

  it('takes a client its proxy withheld (RFC 7239 §6) as one without an address, or refuses it by policy', () => {
    const unknown = fwd.resolve('127.0.0.1', 'for=unknown');
    expect([unknown.ip, unknown.key, unknown.hidden]).toEqual(['unknown', '', true]);
    const obfuscated = fwd.resolve('127.0.0.1', 'for="_gazonk"');
    expect([obfuscated.ip, obfuscated.key, obfuscated.hidden]).toEqual(['_gazonk', '_gazonk', true]);
    expect(xff.resolve('127.0.0.1', 'unknown').hidden).toBe(true);
    const strict = new ClientIpResolver(trusted, 'forwarded', 64, 'refuse');
    expect(() => strict.resolve('127.0.0.1', 'for=unknown')).toThrow(ForwardedHeaderError);
    expect(() => fwd.resolve('127.0.0.1', 'for=_')).toThrow(ForwardedHeaderError);
  });

  it('refuses zone ids and over-long hops from a header, and never remembers them', () => {
    expect(() => xff.resolve('127.0.0.1', `1.2.3.4%${'x'.repeat(8192)}`)).toThrow(ForwardedHeaderError);
    expect(() => xff.resolve('127.0.0.1', 'fe80::1%eth0')).toThrow(ForwardedHeaderError);
    expect(() => xff.resolve('127.0.0.1', `${'0'.repeat(60)}1.2.3.4`)).toThrow(ForwardedHeaderError);
    // A peer's own zone id, from the kernel, is its address.
    expect(direct.resolve('fe80::1%eth0', undefined).ip).toBe('fe80::1');
  });

  it('counts an IPv6 client by its prefix, an IPv4 client by its address', () => {
    expect(xff.resolve('127.0.0.1', '2001:db8:1:2:aaaa:bbbb:cccc:dddd').key).toBe('2001:db8:1:2::/64');
    expect(xff.resolve('127.0.0.1', '2001:db8:1:2::9').key).toBe('2001:db8:1:2::/64');
    expect(xff.resolve('127.0.0.1', '203.0.113.9').key).toBe('203.0.113.9');
    const by48 = new ClientIpResolver(trusted, 'x-forwarded-for', 48);
    expect(by48.resolve('127.0.0.1', '2001:db8:1:2::9').key).toBe('2001:db8:1::/48');
  });

  it('agrees with a split-and-scan reading of X-Forwarded-For (property)', () => {
    // The reference: split on commas, walk right to left, skip empty hops, stop at the first
    // untrusted one; a hop that is not an address, when reached, is an error.
    const reference = (header: string): string => {
      let client = '127.0.0.1';
      const hops = header.split(',');
      for (let i = hops.length - 1; i >= 0; i--) {
        const hop = hops[i]!.trim();
        if (hop.length === 0) continue;
        client = direct.resolve(hop, undefined).ip;
        if (!trusted.hasText(hop)) break;
      }
      return client;
    };
    const hop = fc.constantFrom(
      '203.0.113.9',
      '10.0.0.7',
      '127.0.0.2',
      '::1',
      '2001:db8::5',
      'evil',
      '',
      ' ',
      '198.51.100.1 ',
    );
    fc.assert(
      fc.property(fc.array(hop, { maxLength: 6 }), (hops) => {
        const header = hops.join(',');
        let expected: string;
        try {
          expected = reference(header);
        } catch {
          expect(() => xff.resolve('127.0.0.1', header)).toThrow(ForwardedHeaderError);
          return;
        }
        expect(xff.resolve('127.0.0.1', header).ip).toBe(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws anything but ForwardedHeaderError on hostile headers (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (header) => {
        for (const r of [xff, fwd]) {
          try {
            const c = r.resolve('127.0.0.1', header);
            expect(typeof c.ip).toBe('string');
          } catch (err) {
            expect(err).toBeInstanceOf(ForwardedHeaderError);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
