import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('http-client', () => {
  it('the enforcer loads neither undici’s index nor Node’s bundled undici', () => {
    // In a process of its own: the test runner itself loads both.
    const script = `
      await import(${JSON.stringify(join(import.meta.dirname, '../enforcer.ts'))});
      const loaded = process.moduleLoadList.filter((m) => m.includes('undici'));
      const index = Object.keys((await import('node:module')).createRequire(import.meta.url).cache)
        .filter((p) => /node_modules\\/undici\\/index\\.js$/.test(p));
      console.log(JSON.stringify({ loaded, index }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ loaded: [], index: [] });
  });
});
