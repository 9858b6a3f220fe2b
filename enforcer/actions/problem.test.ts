import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROBLEMS } from './problem.ts';

describe('error codes', () => {
  it('docs/errors.md lists every RG_ERR_ code the code base can raise', () => {
    const doc = readFileSync('docs/errors.md', 'utf8');
    const sources = ['api', 'cli', 'enforcer', 'operator'].flatMap((dir) =>
      readdirSync(dir, { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
        .map((f) => readFileSync(join(dir, f), 'utf8')),
    );
    const codes = new Set(sources.flatMap((text) => text.match(/RG_ERR_[A-Z_]+/g) ?? []));
    expect(codes.size).toBeGreaterThan(20);
    for (const code of codes) expect(doc, code).toContain(`\`${code}\``);
  });

  it('docs/errors.md lists every code with its HTTP and gRPC status', () => {
    const doc = readFileSync('docs/errors.md', 'utf8');
    for (const [code, [status, , grpcStatus]] of Object.entries(PROBLEMS)) {
      expect(doc, code).toMatch(new RegExp(`\\| \`${code}\` \\| ${status}[^|]*\\| ${grpcStatus} `));
    }
  });
});
