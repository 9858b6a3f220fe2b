import { describe, expect, it } from 'vitest';
import { RouteTable, RouteTableError } from './route-table.ts';

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
