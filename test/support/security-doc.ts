/**
 * docs/security.md carries rows the tests observe. Each row lives between its own markers; a test
 * asserts its row matches what it just saw, and UPDATE_SECURITY_DOC=1 rewrites it instead.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { expect } from 'vitest';

const DOC = 'docs/security.md';

export function checkSecurityRow(id: string, row: string): void {
  const doc = readFileSync(DOC, 'utf8');
  const start = `<!-- ${id}:start -->`;
  const end = `<!-- ${id}:end -->`;
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from === -1 || to === -1) throw new Error(`${DOC} has no ${id} markers`);
  if (process.env['UPDATE_SECURITY_DOC']) {
    writeFileSync(DOC, `${doc.slice(0, from + start.length)}${row}${doc.slice(to)}`);
    return;
  }
  expect(doc.slice(from + start.length, to)).toBe(row);
}
