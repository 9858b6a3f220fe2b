/**
 * `make demo` is a promise in a table: every row is asserted. Legitimate rows are never denied,
 * restricted or refused, and every challenge a person meets is one they pass; attack rows are
 * stopped as they must be.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const COLUMNS = [
  'class',
  'allowed',
  'challenged',
  'restricted',
  'denied',
  'refused',
  'error',
  'solved',
  'reached',
];
/** The botnet of the stuffing row: 24 addresses (demo/traffic.ts). */
const BOTNET_ADDRESSES = 24;

describe('make demo', () => {
  it('plays users and attacks, prints the table and the added latency, and every row holds', () => {
    const run = spawnSync('node_modules/.bin/node', ['demo/run.ts'], {
      encoding: 'utf8',
      env: { ...process.env, DEMO_SECONDS: '6' },
      timeout: 120_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const rows = new Map<string, Record<string, number>>();
    for (const line of run.stdout.split('\n').filter((l) => /^\| (legitimate|attack):/.test(l))) {
      const cells = line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim());
      rows.set(cells[0]!, Object.fromEntries(COLUMNS.slice(1).map((c, i) => [c, Number(cells[i + 1])])));
    }
    expect([...rows.keys()]).toEqual([
      'legitimate: browsing',
      'legitimate: login',
      'legitimate: transfer',
      'attack: known-bad IPs',
      'attack: credential stuffing',
      'attack: stolen token, far away',
    ]);
    for (const name of ['legitimate: browsing', 'legitimate: login', 'legitimate: transfer']) {
      const r = rows.get(name)!;
      expect(r['allowed'], name).toBeGreaterThan(0);
      expect([r['denied'], r['restricted'], r['refused'], r['error']], name).toEqual([0, 0, 0, 0]);
      // A person passes every challenge put to them, and then reaches the app.
      expect(r['solved'], name).toBe(r['challenged']);
      expect(r['reached'], name).toBe(r['allowed']! + r['solved']!);
    }
    const bad = rows.get('attack: known-bad IPs')!;
    expect(bad['denied']).toBeGreaterThan(0);
    expect(bad['reached']).toBe(0);
    expect(bad['allowed']! + bad['challenged']! + bad['restricted']! + bad['error']!).toBe(0);
    const stuffing = rows.get('attack: credential stuffing')!;
    // Each bot address gets a few attempts through before its own failures give it away.
    expect(stuffing['denied']).toBeGreaterThan(0);
    expect(stuffing['reached']).toBeLessThanOrEqual(BOTNET_ADDRESSES * 5);
    expect(stuffing['error']).toBe(0);
    const stolen = rows.get('attack: stolen token, far away')!;
    expect(stolen['reached']).toBe(0);
    expect(stolen['denied']).toBeGreaterThan(0);
    expect(run.stdout).toMatch(/Added latency .* p50 -?\d+ µs/);
  }, 150_000);
});
