import { BlockList, isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeIp, parseIp } from './ip.ts';
import { IpRangeSet } from './ip-range-set.ts';

describe('parseIp', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['::FFFF:c000:0201', '192.0.2.1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['1::', '1::'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ])('normalises %s to %s', (input, expected) => {
    expect(normalizeIp(input)).toBe(expected);
  });

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3.4 ',
    ' 1.2.3.4',
    '1..2.3',
    ':::',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    '12345::',
    '1:2:3:4:5:6:7:',
    'g::1',
    'unknown',
    '[::1]',
    '1.2.3.4%eth:0',
  ])('rejects %j', (input) => {
    expect(parseIp(input)).toBeUndefined();
  });

  it('agrees with node:net on what is an address (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 45 })), (text) => {
        const ours = parseIp(text) !== undefined;
        const node = isIP(text) !== 0 && !/(^|[.:])0\d/.test(text.split(':').pop() ?? '');
        if (isIP(text) === 0) expect(ours).toBe(false);
        else if (node) expect(ours).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('IpRangeSet', () => {
  const set = IpRangeSet.from([
    '203.0.113.0/24',
    '198.51.100.66',
    '2001:db8:bad::/48',
    '10.0.0.0/8',
    '10.1.0.0/16',
  ]);

  it.each([
    ['203.0.113.0', true],
    ['203.0.113.255', true],
    ['203.0.114.0', false],
    ['203.0.112.255', false],
    ['198.51.100.66', true],
    ['198.51.100.67', false],
    ['::ffff:203.0.113.9', true],
    ['2001:db8:bad:ffff::1', true],
    ['2001:db8:bae::1', false],
    ['10.255.255.255', true],
    ['11.0.0.0', false],
  ])('%s in set: %s', (ip, expected) => {
    expect(set.hasText(ip)).toBe(expected);
  });

  it('refuses bad CIDRs by name', () => {
    expect(() => IpRangeSet.from(['10.0.0.0/33'])).toThrow(/10.0.0.0\/33/);
    expect(() => IpRangeSet.from(['::/129'])).toThrow();
    expect(() => IpRangeSet.from(['1.2.3.4/'])).toThrow();
  });

  // The builder reads a line's address and prefix length in place; these are the spellings a
  // hostile or sloppy feed sends, each read as when the line was cut into strings first.
  it.each([
    ['1.2.3.4/+24', undefined],
    ['1.2.3.4/-1', undefined],
    ['1.2.3.4/1e1', undefined],
    ['1.2.3.4/0x8', undefined],
    ['1.2.3.4/2 4', undefined],
    ['1.2.3.4/24/8', undefined],
    ['1.2.3.4/2:4', undefined],
    ['1.2.3.4/24%eth0', undefined],
    ['10.0.0.0:80/8', undefined],
    ['/24', undefined],
    ['1.2.3.4/0024', undefined],
    ['1.2.3.4/024', ['1.2.3.255', '1.2.4.0']],
    ['1.2.3.4%eth0/24', ['1.2.3.255', '1.2.4.0']],
    ['::ffff:10.0.0.0/104', ['10.255.0.1', '11.0.0.0']],
    ['2001:db8::/32', ['2001:db8:ffff::1', '2001:db9::']],
  ])('reads %j in place as it was read from cut strings', (cidr, probes) => {
    if (probes === undefined) {
      expect(() => IpRangeSet.from([cidr])).toThrow();
      return;
    }
    const one = IpRangeSet.from([cidr]);
    expect(one.hasText(probes[0]!)).toBe(true);
    expect(one.hasText(probes[1]!)).toBe(false);
  });

  it('agrees with node:net BlockList on a large indexed set, at every range edge', () => {
    // Over 4,096 ranges the set searches only the /16 of the address: probe the edges of
    // every range, and ranges that start in one /16 and reach into the next.
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const toIp = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
    const ref = new BlockList();
    const cidrs: string[] = [];
    const probes: number[] = [];
    for (let i = 0; i < 6000; i++) {
      const bits = 12 + Math.floor(random() * 21);
      const size = 2 ** (32 - bits);
      const start = Math.floor((random() * 2 ** 32) / size) * size;
      cidrs.push(`${toIp(start)}/${bits}`);
      ref.addSubnet(toIp(start), bits, 'ipv4');
      probes.push(start, start + size - 1, Math.max(0, start - 1), Math.min(2 ** 32 - 1, start + size));
    }
    const ours = IpRangeSet.from(cidrs);
    for (const p of probes) expect(ours.hasText(toIp(p)), toIp(p)).toBe(ref.check(toIp(p), 'ipv4'));
  });

  it('agrees with node:net BlockList on random prefixes (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })), { minLength: 1, maxLength: 30 }),
        fc.array(fc.ipV4(), { minLength: 1, maxLength: 30 }),
        (prefixes, probes) => {
          const ours = IpRangeSet.from(prefixes.map(([a, b]) => `${a}/${b}`));
          const ref = new BlockList();
          for (const [a, b] of prefixes) ref.addSubnet(a, b, 'ipv4');
          for (const p of probes) expect(ours.hasText(p)).toBe(ref.check(p, 'ipv4'));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('agrees with node:net BlockList for IPv6 (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })), { minLength: 1, maxLength: 20 }),
        fc.array(fc.ipV6(), { minLength: 1, maxLength: 20 }),
        (prefixes, probes) => {
          const clean = prefixes.filter(([a]) => !a.toLowerCase().startsWith('::ffff:') && isIP(a) === 6);
          const ours = IpRangeSet.from(clean.map(([a, b]) => `${a}/${b}`));
          const ref = new BlockList();
          for (const [a, b] of clean) ref.addSubnet(a, b, 'ipv6');
          for (const p of probes) {
            if (p.toLowerCase().includes('ffff:') || isIP(p) !== 6) continue;
            expect(ours.hasText(p)).toBe(ref.check(p, 'ipv6'));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('stays correct at a million entries', () => {
    const entries: string[] = [];
    for (let i = 0; i < 1_000_000; i++)
      entries.push(`${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}.0/24`);
    const big = IpRangeSet.from(entries);
    expect(big.hasText('15.66.63.1')).toBe(true);
    expect(big.hasText('15.66.64.1')).toBe(false);
  });
});
