import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Reader } from 'maxmind';
import { describe, expect, it } from 'vitest';
import { parseIpInto } from '../net/ip.ts';
import { bundledCityDatabases } from './geo-lookup.ts';
import { MmdbReader } from './mmdb-reader.ts';

const FIXTURES = 'test/fixtures/maxmind-db/test-data';

/** The maxmind package's answer, as plain data: its big unsigned integers as numbers. */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Buffer.isBuffer(value)) return [...value];
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

function answers(reader: MmdbReader, reference: Reader<never>, ip: string): void {
  const words = new Uint32Array(4);
  const family = parseIpInto(ip, words);
  if (family === 0) throw new Error(`not an address: ${ip}`);
  const ours = reader.lookup(words, family);
  const theirs = reference.get(ip);
  expect(plain(ours ?? null), ip).toEqual(plain(theirs));
}

// Addresses near the edges of the test files' networks, and a spread of everything else.
const EDGES = [
  '1.1.1.1',
  '1.1.1.3',
  '1.1.1.32',
  '1.128.0.0',
  '2.125.160.216',
  '67.43.156.1',
  '81.2.69.142',
  '89.160.20.128',
  '175.16.199.1',
  '216.160.83.56',
  '::1.1.1.1',
  '::ffff:1.1.1.1',
  '::2:0:0',
  '::2:0:40',
  '::2:0:58',
  '2001:218::1',
  '2001:480::1',
  '2a02:d300::1',
  '::',
  '255.255.255.255',
];

describe('MmdbReader, held to the maxmind package', () => {
  const fixtures = readdirSync(FIXTURES).filter(
    (f) => f.endsWith('.mmdb') && !/Broken|Invalid|broken/.test(f),
  );

  it.each(fixtures)('answers like maxmind on %s', (file) => {
    const path = join(FIXTURES, file);
    const reference = new Reader<never>(readFileSync(path));
    // Four pages: every lookup evicts and re-reads, so paging is exercised as well.
    const reader = new MmdbReader(path, 4);
    try {
      expect(reader.metadata.nodeCount).toBe(reference.metadata.nodeCount);
      expect(reader.metadata.databaseType).toBe(reference.metadata.databaseType);
      for (const ip of EDGES) {
        if (reader.metadata.ipVersion === 4 && ip.includes(':')) continue;
        answers(reader, reference, ip);
      }
    } finally {
      reader.close();
    }
  });

  it.each(bundledCityDatabases())('answers like maxmind on the bundled %s for random addresses', (path) => {
    const reference = new Reader<never>(readFileSync(path));
    const reader = new MmdbReader(path, 64);
    const v6 = reader.metadata.ipVersion === 6;
    try {
      fc.assert(
        fc.property(v6 ? fc.ipV6() : fc.ipV4(), (ip) => {
          answers(reader, reference, ip);
        }),
        { numRuns: 3000 },
      );
    } finally {
      reader.close();
    }
  });

  it('refuses a file that is not a MaxMind DB', () => {
    expect(() => new MmdbReader('package.json')).toThrow(/no MaxMind DB metadata/);
  });
});
