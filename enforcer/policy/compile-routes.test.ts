import { describe, expect, it } from 'vitest';
import { riskPolicy } from '../../api/riskpolicy.ts';
import { compileRouteTable, stricterRoute } from './compile-routes.ts';

const policy = (routes: unknown[], defaultSensitivity = 'medium') =>
  riskPolicy.parse({
    apiVersion: 'riskgate.dev/v1alpha1',
    kind: 'RiskPolicy',
    metadata: { name: 'p' },
    spec: { selector: {}, defaultSensitivity, routes },
  });

const table = await compileRouteTable(
  policy([
    { name: 'catalogue', methods: ['GET'], path: '/products/*', sensitivity: 'low' },
    {
      name: 'transfer',
      methods: ['POST'],
      path: '/transfer',
      sensitivity: 'critical',
      authentication: 'required',
    },
    { name: 'legacy', methods: ['GET'], path: '/legacy', unlistedMethods: 'default' },
    { name: 'admin', methods: ['GET'], path: '/admin', unlistedMethods: 'refuse' },
  ]),
);

describe('compiled routes', () => {
  it('holds an unlisted method to the route, at no less than the default sensitivity', () => {
    const del = table.match('DELETE', '/products/1');
    expect(del.name).toBe('catalogue');
    expect(del.sensitivity).toBe('medium');
    expect(table.match('GET', '/products/1').sensitivity).toBe('low');
    const put = table.match('PUT', '/transfer');
    expect([put.name, put.sensitivity, put.authRequired]).toEqual(['transfer', 'critical', true]);
  });

  it('leaves unlisted methods to the default route or refuses them, as the route says', () => {
    expect(table.match('POST', '/legacy').name).toBe('default');
    expect(table.match('POST', '/admin').allowedMethods).toBe('GET, HEAD');
    expect(table.match('GET', '/admin').allowedMethods).toBeUndefined();
  });

  it('orders strictness: refusal, authentication, scopes, login, sensitivity, fail mode', () => {
    const base = table.match('GET', '/products/1');
    const auth = table.match('POST', '/transfer');
    const refused = table.match('POST', '/admin');
    expect(stricterRoute(base, auth)).toBe(auth);
    expect(stricterRoute(auth, base)).toBe(auth);
    expect(stricterRoute(auth, refused)).toBe(refused);
    expect(stricterRoute(base, { ...base, sensitivity: 'high' }).sensitivity).toBe('high');
    expect(stricterRoute(base, { ...base, failMode: 'closed' }).failMode).toBe('closed');
  });
});
