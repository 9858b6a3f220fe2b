import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IpRangeSet } from '../net/ip-range-set.ts';
import { ClientIpResolver, ForwardedHeaderError } from './client-ip.ts';

const trusted = IpRangeSet.from(['127.0.0.0/8', '::1', '10.0.0.0/8']);
const xff = new ClientIpResolver(trusted, 'x-forwarded-for');
const fwd = new ClientIpResolver(trusted, 'forwarded');

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
  ])('%s', (_name, peer, header, expected) => {
    expect(xff.resolve(peer, header).ip).toBe(expected);
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
    expect(() => fwd.resolve('127.0.0.1', 'for=unknown')).toThrow(ForwardedHeaderError);
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
