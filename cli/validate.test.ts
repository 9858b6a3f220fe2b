import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const run = (...args: string[]) => spawnSync('bin/riskgate', args, { encoding: 'utf8' });

describe('riskgate validate', () => {
  it('exits 0 for the examples', () => {
    const r = run(
      'validate',
      'examples/quickstart.yaml',
      'examples/payments-api.yaml',
      'examples/login-protection.yaml',
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('exits 1 and names file, line, field and reason', () => {
    const r = run('validate', 'examples/quickstart.yaml', 'api/testdata/invalid.yaml');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('api/testdata/invalid.yaml:7: spec.mode: Invalid option');
    expect(r.stderr).toContain('spec.thresholds: thresholds must be ordered: challenge < restrict < deny');
  });

  it('exits non-zero for a missing file and for no arguments', () => {
    expect(run('validate', 'does-not-exist.yaml').status).toBe(1);
    expect(run('validate').status).toBe(2);
  });

  it('runs on the pinned Node 24 and says what is not implemented yet', () => {
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('riskgate validate');
    const node = spawnSync('node_modules/.bin/node', ['--version'], { encoding: 'utf8' });
    expect(node.stdout).toMatch(/^v24\./);
  });
});
