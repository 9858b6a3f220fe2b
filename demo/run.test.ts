import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('make demo', () => {
  it('plays users and attacks, prints the table and the added latency, and exits 0', () => {
    const run = spawnSync('node_modules/.bin/node', ['demo/run.ts'], {
      encoding: 'utf8',
      env: { ...process.env, DEMO_SECONDS: '3' },
      timeout: 90_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const columns = [
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
    const row = (name: string) => {
      const cells = run.stdout
        .split('\n')
        .find((l) => l.startsWith(`| ${name}`))!
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim());
      return Object.fromEntries(columns.map((c, i) => [c, c === 'class' ? cells[i] : Number(cells[i])]));
    };
    const bad = row('attack: known-bad IPs');
    expect(bad['denied']).toBeGreaterThan(0);
    expect(bad['reached']).toBe(0);
    const browsing = row('legitimate: browsing');
    expect(browsing['allowed']).toBeGreaterThan(0);
    expect(browsing['denied']).toBe(0);
    expect(run.stdout).toMatch(/Added latency .* p50 -?\d+ µs/);
  }, 120_000);
});
