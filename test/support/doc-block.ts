/**
 * Docs that show what a test saw: each block lives between its own markers in a Markdown file,
 * a test asserts the block matches what it just observed, and an environment variable rewrites
 * it instead.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { expect } from 'vitest';

export function checkDocBlock(doc: string, id: string, text: string, updateVariable: string): void {
  const content = readFileSync(doc, 'utf8');
  const start = `<!-- ${id}:start -->`;
  const end = `<!-- ${id}:end -->`;
  const from = content.indexOf(start);
  const to = content.indexOf(end);
  if (from === -1 || to === -1) throw new Error(`${doc} has no ${id} markers`);
  if (process.env[updateVariable]) {
    writeFileSync(doc, `${content.slice(0, from + start.length)}${text}${content.slice(to)}`);
    return;
  }
  expect(content.slice(from + start.length, to), `${doc} ${id} (${updateVariable}=1 rewrites it)`).toBe(text);
}
