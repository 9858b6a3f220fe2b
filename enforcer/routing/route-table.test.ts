import { createRequire } from 'node:module';
import FindMyWay from 'find-my-way';
import { describe, expect, it } from 'vitest';
import { templateKey } from '../../api/route-conflicts.ts';
import { type RouteDefinition, RouteTable, RouteTableError } from './route-table.ts';

const { METHODS } = createRequire(import.meta.url)('node:http') as typeof import('node:http');

const table = new RouteTable(
  [
    { methods: ['POST'], path: '/transfer', value: 'transfer' },
    { methods: ['GET'], path: '/orders/:id', value: 'order' },
    { methods: ['GET'], path: '/orders/export', value: 'export' },
    { methods: ['GET', 'HEAD'], path: '/products/*', value: 'products' },
  ],
  'default',
);

describe('route table', () => {
  it.each([
    ['POST', '/transfer', 'transfer'],
    ['POST', '/Transfer', 'transfer'],
    ['POST', '/transfer/', 'transfer'],
    ['GET', '/transfer', 'default'],
    ['GET', '/orders/42', 'order'],
    ['HEAD', '/orders/42', 'order'],
    ['GET', '/orders/export', 'export'],
    ['GET', '/products/a/b/c', 'products'],
    ['DELETE', '/products/a', 'default'],
    ['GET', '/', 'default'],
  ])('%s %s → %s', (method, path, expected) => {
    expect(table.match(method, path)).toBe(expected);
  });

  it('names conflicting routes', () => {
    expect(
      () =>
        new RouteTable(
          [
            { methods: ['GET'], path: '/a', value: 1 },
            { methods: ['GET'], path: '/a', value: 2 },
          ],
          0,
        ),
    ).toThrow(RouteTableError);
  });
});

describe('route table on arbitrary paths (property)', () => {
  it('matches a normalised path exactly as it matches its case and trailing-slash variants, and never throws', async () => {
    const { default: fc } = await import('fast-check');
    const { parseRequestTarget } = await import('./request-target.ts');
    fc.assert(
      fc.property(
        fc.array(
          fc.constantFrom('transfer', 'orders', '42', 'export', 'products', 'a', '..', '.', '%2e%2e', ''),
          {
            maxLength: 6,
          },
        ),
        fc.constantFrom('GET', 'POST', 'HEAD', 'DELETE'),
        (segments, method) => {
          let path: string;
          try {
            path = parseRequestTarget(`/${segments.join('/')}`).path;
          } catch {
            return; // refused before routing
          }
          const matched = table.match(method, path);
          expect(table.match(method, path.toUpperCase())).toBe(matched);
          expect(table.match(method, path.endsWith('/') ? path.slice(0, -1) || '/' : `${path}/`)).toBe(
            matched,
          );
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('methods a route does not list', () => {
  // A value's strictness is its length here: the test's stand-in for the policy's order.
  const stricter = (a: string, b: string) => (b.length > a.length ? b : a);
  const guarded = new RouteTable(
    [
      { methods: ['POST'], path: '/transfer', value: 'transfer', otherMethods: 'transfer-other' },
      { methods: ['GET'], path: '/orders/:id', value: 'order', otherMethods: undefined },
      { methods: ['DELETE'], path: '/orders/:orderId', value: 'order-delete', otherMethods: 'refused' },
      { methods: ['GET'], path: '/files/*', value: 'files' },
      { methods: ['GET'], path: '/files/admin', value: 'files-admin-rules' },
    ],
    'default',
    stricter,
  );

  it.each([
    ['POST', '/transfer', 'transfer'],
    ['PUT', '/transfer', 'transfer-other'],
    ['PATCH', '/Transfer/', 'transfer-other'],
    ['GET', '/transfer', 'transfer-other'],
    ['HEAD', '/transfer', 'transfer-other'],
    ['PROPFIND', '/transfer', 'transfer-other'],
    ['GET', '/orders/1', 'order'],
    ['HEAD', '/orders/1', 'order'],
    ['DELETE', '/orders/1', 'order-delete'],
    // two routes share the template: other methods take the stricter of their variants
    ['PUT', '/orders/1', 'refused'],
    ['POST', '/products', 'default'],
  ])('%s %s → %s', (method, path, expected) => {
    expect(guarded.match(method, path)).toBe(expected);
  });

  it('takes the strictest route that any reading of the path matches', () => {
    expect(guarded.matchStrictest('GET', '/files/admin.json', ['/files/admin'])).toBe('files-admin-rules');
    expect(guarded.matchStrictest('POST', '/transfer.json', ['/transfer'])).toBe('transfer');
    expect(guarded.matchStrictest('GET', '/files/a', undefined)).toBe('files');
  });
});

describe('methods outside the common set', () => {
  const stricter = (a: string, b: string) => (b.length > a.length ? b : a);
  const webdav = new RouteTable(
    [
      { methods: ['PROPFIND'], path: '/dav/*', value: 'dav-read', otherMethods: 'dav-other' },
      { methods: ['POST'], path: '/transfer', value: 'transfer', otherMethods: 'transfer-other' },
    ],
    'default',
    stricter,
  );

  it.each([
    // A method a route names has its own tree.
    ['PROPFIND', '/dav/a', 'dav-read'],
    ['MKCOL', '/dav/a', 'dav-other'],
    ['PROPFIND', '/transfer', 'transfer-other'],
    // Any token an HTTP/2 client sends as a method is held to the path's rules, never waved to the default route.
    ['BREW', '/transfer', 'transfer-other'],
    ['X-ANYTHING', '/dav/a', 'dav-other'],
    ['BREW', '/elsewhere', 'default'],
    // Methods are case-sensitive tokens (RFC 9110): a lower-case `get` from an HTTP/2 client is not GET.
    ['get', '/transfer', 'transfer-other'],
  ])('%s %s → %s', (method, path, expected) => {
    expect(webdav.match(method, path)).toBe(expected);
  });
});

describe('building a large table in slices', () => {
  const routes = Array.from({ length: 1000 }, (_, i) => ({
    methods: [i % 3 === 0 ? 'POST' : 'GET'],
    path: `/api/v1/r${i}/:id`,
    value: `r${i}`,
    otherMethods: i % 2 === 0 ? `r${i}-other` : undefined,
  }));

  it('matches exactly as a table built at once, and lets the event loop run while it builds', async () => {
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 0);
    const sliced = await RouteTable.build(routes, 'default');
    clearInterval(ticker);
    const atOnce = new RouteTable(routes, 'default');
    for (const method of ['GET', 'HEAD', 'POST', 'DELETE', 'PROPFIND', 'BREW'])
      for (const i of [0, 1, 2, 3, 500, 999])
        expect(sliced.match(method, `/api/v1/r${i}/7`)).toBe(atOnce.match(method, `/api/v1/r${i}/7`));
    expect(sliced.match('DELETE', '/api/v1/r0/7')).toBe('r0-other');
    expect(ticks).toBeGreaterThan(0);
  });

  it('rejects a conflict the same way', async () => {
    await expect(
      RouteTable.build(
        [
          { methods: ['GET'], path: '/a/:x', value: 1 },
          { methods: ['GET'], path: '/a/:y', value: 2 },
        ],
        0,
      ),
    ).rejects.toThrow(RouteTableError);
  });
});

/**
 * The table as it was built before methods shared trees: every method its own find-my-way tree,
 * each listing what the route set gives that method. Sharing trees must never change a match.
 */
function everyMethodItsOwnTree(
  routes: readonly RouteDefinition<string>[],
  fallback: string,
  stricter: (a: string, b: string) => string,
): (method: string, path: string) => string {
  const router = FindMyWay({ caseSensitive: false, ignoreTrailingSlash: true });
  const own = new Set([
    'GET',
    'HEAD',
    'POST',
    'PUT',
    'PATCH',
    'DELETE',
    'OPTIONS',
    'TRACE',
    'CONNECT',
    'QUERY',
  ]);
  for (const r of routes) for (const m of r.methods) own.add(m);
  const standIn = METHODS.find((m) => !own.has(m));
  const claimed = new Map<string, { path: string; methods: Set<string>; other: string | undefined }>();
  for (const r of routes) {
    for (const m of r.methods) router.on(m as 'GET', r.path, () => {}, { value: r.value });
    const key = templateKey(r.path);
    const entry = claimed.get(key) ?? { path: r.path, methods: new Set<string>(), other: undefined };
    for (const m of r.methods) entry.methods.add(m);
    if (r.otherMethods !== undefined)
      entry.other = entry.other === undefined ? r.otherMethods : stricter(entry.other, r.otherMethods);
    claimed.set(key, entry);
  }
  for (const r of routes) {
    const entry = claimed.get(templateKey(r.path))!;
    if (r.methods.includes('GET') && !entry.methods.has('HEAD')) {
      router.on('HEAD', r.path, () => {}, { value: r.value });
      entry.methods.add('HEAD');
    }
  }
  for (const { path, methods, other } of claimed.values()) {
    if (other === undefined) continue;
    const rest = [...own].filter((m) => !methods.has(m));
    if (standIn !== undefined) rest.push(standIn);
    for (const m of rest) router.on(m as 'GET', path, () => {}, { value: other });
  }
  return (method, path) => {
    const tree = own.has(method) ? method : (standIn ?? method);
    const found = router.find(tree as 'GET', path);
    return found === null ? fallback : (found.store as { value: string }).value;
  };
}

describe('methods sharing a tree (property)', () => {
  it('matches every method and path as a table with a tree per method does', async () => {
    const { default: fc } = await import('fast-check');
    const stricter = (a: string, b: string) => (b.length > a.length ? b : a);
    const templates = ['/a', '/A/', '/a/:id', '/a/b', '/a/*', '/b/:x/c', '/b/:y/*', '/c', '/', '/*'];
    const methods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PROPFIND', 'MKCOL'];
    const requestMethods = [...methods, 'OPTIONS', 'PATCH', 'QUERY', 'LOCK', 'BREW', 'get'];
    const paths = ['/a', '/a/', '/A/b', '/a/7', '/a/b/c', '/b/1/c', '/b/1/d', '/c', '/', '/zz', '/b'];
    const route = fc.record({
      methods: fc.uniqueArray(fc.constantFrom(...methods), { minLength: 1, maxLength: 3 }),
      path: fc.constantFrom(...templates),
      value: fc.constantFrom('v', 'vv', 'vvv'),
      otherMethods: fc.constantFrom(undefined, 'o', 'ooo', 'oooo'),
    });
    fc.assert(
      fc.property(fc.array(route, { maxLength: 8 }), (routes) => {
        let reference: (method: string, path: string) => string;
        try {
          reference = everyMethodItsOwnTree(routes, 'default', stricter);
        } catch {
          // Two routes claim a method on one template: refused both ways.
          expect(() => new RouteTable(routes, 'default', stricter)).toThrow();
          return;
        }
        const shared = new RouteTable(routes, 'default', stricter);
        for (const method of requestMethods)
          for (const path of paths) expect(shared.match(method, path)).toBe(reference(method, path));
      }),
      { numRuns: 1500 },
    );
  });

  it('leaves a method no route can name to the fallback once routes name every other method', () => {
    const stricter = (a: string, b: string) => (b.length > a.length ? b : a);
    const rare = METHODS.filter(
      (m) =>
        !['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'QUERY'].includes(
          m,
        ),
    );
    const routes = [];
    for (let i = 0; i < rare.length; i += 7)
      routes.push({
        methods: rare.slice(i, i + 7),
        path: `/rare/${i}`,
        value: 'rare',
        otherMethods: 'rare-other',
      });
    routes.push({ methods: ['GET'], path: '/a', value: 'a', otherMethods: 'a-other' });
    const shared = new RouteTable(routes, 'default', stricter);
    const reference = everyMethodItsOwnTree(routes, 'default', stricter);
    for (const [method, path] of [
      ['BREW', '/a'],
      ['PUT', '/a'],
      ['HEAD', '/a'],
      [rare[0]!, '/a'],
      [rare[0]!, '/rare/0'],
      ['GET', '/rare/0'],
    ] as const)
      expect(shared.match(method, path)).toBe(reference(method, path));
    expect(shared.match('BREW', '/a')).toBe('default');
    expect(shared.match('PUT', '/a')).toBe('a-other');
  });
});
