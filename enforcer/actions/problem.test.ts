import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROBLEMS } from './problem.ts';

describe('error codes', () => {
  it('docs/errors.md lists every code with its status', () => {
    const doc = readFileSync('docs/errors.md', 'utf8');
    for (const [code, [status]] of Object.entries(PROBLEMS)) {
      expect(doc, code).toMatch(new RegExp(`\\| \`${code}\` \\| ${status}`));
    }
  });
});
