import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRequestTarget, RequestTargetError } from './request-target.ts';

describe('request target', () => {
  it.each([
    ['/a/b?x=1', '/a/b', '?x=1'],
    ['/a//b', '/a/b', ''],
    ['/a/./b', '/a/b', ''],
    ['/a/c/../b', '/a/b', ''],
    ['/../../etc/passwd', '/etc/passwd', ''],
    ['/%2e%2e/transfer', '/transfer', ''],
    ['/x/%2E%2e/transfer', '/transfer', ''],
    ['/%74ransfer', '/transfer', ''],
    ['/a%20b', '/a%20b', ''],
    ['/a%c3%a9', '/a%C3%A9', ''],
    ['http://evil.example/transfer?x', '/transfer', '?x'],
    ['HTTP://h', '/', ''],
    ['/products/', '/products/', ''],
  ])('%s → %s', (url, path, query) => {
    expect(parseRequestTarget(url)).toEqual({ path, query });
  });

  it.each(['/a%2fb', '/a%2Fb', '/a%5cb', '/a\\b', '/a%00', '/a%zz', '/a%2', '*', 'ftp://x/y', '/a#frag'])(
    'refuses %j',
    (url) => {
      expect(() => parseRequestTarget(url)).toThrow(RequestTargetError);
    },
  );

  it('normalised paths have no dot segments or empty segments (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', '.', '..', '', '%2e', '%2E%2e', 'b%41', 'x'), { maxLength: 12 }),
        (segments) => {
          const { path } = parseRequestTarget(`/${segments.join('/')}`);
          const inner = path.split('/').slice(1, path.endsWith('/') ? -1 : undefined);
          for (const s of inner) {
            expect(s).not.toBe('.');
            expect(s).not.toBe('..');
            expect(s).not.toBe('');
          }
          expect(parseRequestTarget(path).path).toBe(path); // idempotent
        },
      ),
      { numRuns: 2000 },
    );
  });
});
