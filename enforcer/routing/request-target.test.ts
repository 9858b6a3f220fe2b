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
    // Path parameters, as servlet containers drop them before routing.
    ['/transfer;x=1', '/transfer', ''],
    ['/transfer;', '/transfer', ''],
    ['/transfer;jsessionid=abc?a=1', '/transfer', '?a=1'],
    ['/x/..;/transfer', '/transfer', ''],
    ['/a;p=1/b;q=2/', '/a/b/', ''],
    ['/;x/transfer', '/transfer', ''],
    ['/%2e%2e;x/transfer', '/transfer', ''],
  ])('%s → %s', (url, path, query) => {
    const target = parseRequestTarget(url);
    expect({ path: target.path, query: target.query }).toEqual({ path, query });
  });

  it.each([
    '/a%2fb',
    '/a%2Fb',
    '/a%5cb',
    '/a\\b',
    '/a%00',
    '/a%zz',
    '/a%2',
    '*',
    'ftp://x/y',
    '/a#frag',
    // a second layer of encoding, which a decode-twice server reads as /transfer
    '/%2574ransfer',
    '/%252e%252e/transfer',
    '/%25%32%66',
    // an encoded ';', which some servers decode before dropping parameters
    '/transfer%3bx=1',
    // overlong and invalid UTF-8 ('.' as %C0%AE), read as a dot by lenient decoders
    '/%c0%ae%c0%ae/transfer',
    '/a%ff',
  ])('refuses %j', (url) => {
    expect(() => parseRequestTarget(url)).toThrow(RequestTargetError);
  });

  it('keeps a literal percent sign that is not a second encoding', () => {
    expect(parseRequestTarget('/discount/50%25off').path).toBe('/discount/50%25off');
  });

  it('refuses path parameters when the policy says so', () => {
    expect(() => parseRequestTarget('/transfer;x=1', 'refuse')).toThrow(RequestTargetError);
    expect(parseRequestTarget('/transfer', 'refuse').path).toBe('/transfer');
  });

  it.each([
    ['/transfer.json', ['/transfer']],
    ['/transfer.', ['/transfer']],
    ['/transfer%20', ['/transfer']],
    ['/transfer%09', ['/transfer']],
    ['/transfer.json/', ['/transfer/']],
    ['/a.b/transfer.', ['/a.b/transfer']],
    ['/products/1', undefined],
    ['/static/app.min.js', ['/static/app']],
  ])('%s is also read as %j', (url, alternates) => {
    const got = parseRequestTarget(url).alternates;
    expect(got === undefined ? undefined : [...new Set(got)].sort()).toEqual(
      alternates === undefined ? undefined : [...new Set(alternates)].sort(),
    );
  });

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
