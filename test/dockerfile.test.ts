/** The image cannot be built here (no Docker engine); what can be checked, is. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const lines = readFileSync('Dockerfile', 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

describe('Dockerfile', () => {
  it('pins every base image to an exact version, never latest', () => {
    const bases = lines.filter((l) => l.startsWith('FROM ')).map((l) => l.split(/\s+/)[1]!);
    expect(bases.length).toBeGreaterThanOrEqual(2);
    for (const b of bases) {
      expect(b).toMatch(/^[\w./-]+:\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?$/);
      expect(b).not.toMatch(/:latest\b/);
    }
  });

  it('runs as a non-root user in the final stage, with riskgate as the entrypoint', () => {
    const final = lines.slice(lines.map((l) => l.startsWith('FROM ')).lastIndexOf(true));
    const user = final.find((l) => l.startsWith('USER '));
    expect(user).toBeDefined();
    expect(user).not.toMatch(/USER\s+(root|0)(\b|:)/);
    expect(final.find((l) => l.startsWith('ENTRYPOINT'))).toContain('cli/main.ts');
  });

  it('installs no dev dependencies', () => {
    const installs = lines.filter((l) => l.includes('npm ci') || l.includes('npm install'));
    expect(installs.length).toBeGreaterThan(0);
    for (const l of installs) expect(l).toContain('--omit=dev');
  });
});
