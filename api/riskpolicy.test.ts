import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { riskPolicy } from './riskpolicy.ts';
import { validateFile, validateText } from './validate.ts';

const minimal = (spec: Record<string, unknown>) => ({
  apiVersion: 'riskgate.dev/v1alpha1',
  kind: 'RiskPolicy',
  metadata: { name: 'p' },
  spec: { selector: {}, ...spec },
});

function errorsOf(spec: Record<string, unknown>): string[] {
  const r = riskPolicy.safeParse(minimal(spec));
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('RiskPolicy schema', () => {
  it('fills the documented defaults', () => {
    const p = riskPolicy.parse(minimal({}));
    expect(p.spec.mode).toBe('enforce');
    expect(p.spec.failMode).toBe('open');
    expect(p.spec.thresholds).toEqual({ challenge: 40, restrict: 60, deny: 80 });
    expect(p.spec.actions.deny.status).toBe(403);
    expect(p.spec.clientIdentity.trustedProxies).toEqual([]);
  });

  it.each(readdirSync('examples').filter((f) => f.endsWith('.yaml')))('accepts examples/%s', (file) => {
    const result = validateFile(`examples/${file}`);
    expect(result.errors).toEqual([]);
    expect(result.policies.length).toBeGreaterThan(0);
  });

  it.each([
    [{ mode: 'sometimes' }, 'mode'],
    [{ failMode: 'maybe' }, 'failMode'],
    [{ thresholds: { challenge: 60, restrict: 60, deny: 80 } }, 'thresholds: thresholds must be ordered'],
    [{ thresholds: { challenge: 10, restrict: 90, deny: 80 } }, 'thresholds: thresholds must be ordered'],
    [{ thresholds: { challenge: 10, restrict: 20, deny: 101 } }, 'thresholds.deny'],
    [{ clientIdentity: { trustedProxies: ['10.0.0.0/33'] } }, 'clientIdentity.trustedProxies.0'],
    [{ clientIdentity: { trustedProxies: ['not-an-ip'] } }, 'clientIdentity.trustedProxies.0'],
    [{ routes: [{ name: 'r', methods: ['GET'], path: 'relative' }] }, 'routes.0.path'],
    [{ routes: [{ name: 'Bad_Name', methods: ['GET'], path: '/' }] }, 'routes.0.name'],
    [
      {
        routes: [
          { name: 'r', methods: ['GET'], path: '/a' },
          { name: 'r', methods: ['GET'], path: '/b' },
        ],
      },
      'routes.1.name: duplicate name',
    ],
    [{ routes: [{ name: 'r', methods: ['GET'], path: '/a', login: {} }] }, 'routes.0.login'],
    [
      { routes: [{ name: 'r', methods: ['GET'], path: '/a', requiredScopes: ['x'] }] },
      'routes.0.authentication',
    ],
    [{ signals: { ipReputation: { feeds: [{ name: 'f' }] } } }, 'exactly one of url or file'],
    [{ signals: { geoip: { allowedCountries: ['DE'], deniedCountries: ['KP'] } } }, 'not both'],
    [{ signals: { geoip: { deniedCountries: ['north korea'] } } }, 'signals.geoip.deniedCountries.0'],
    [{ signals: { device: {} } }, 'idHeader or idCookie'],
    [{ authentication: { jwt: [{ name: 'a', issuer: 'x', audiences: ['y'] }] } }, 'exactly one of jwksUri'],
    [
      {
        authentication: {
          jwt: [{ name: 'a', issuer: 'x', audiences: ['y'], keys: [{ kty: 'EC', d: 'secret' }] }],
        },
      },
      'private members',
    ],
    [
      {
        authentication: {
          jwt: [{ name: 'a', issuer: 'x', audiences: ['y'], keysFile: 'k', algorithms: ['HS256'] }],
        },
      },
      'algorithms.0',
    ],
    [{ authentication: { apiKeys: { keys: [{ id: 'k', sha256: 'abc' }] } } }, 'apiKeys.keys.0.sha256'],
    [{ unknownField: true }, 'unknownField'],
  ])('rejects %j naming the field', (spec, expected) => {
    const errors = errorsOf(spec);
    expect(errors.join('\n')).toContain(expected);
  });

  it('reports file, line and field path for each error and skips other kinds', () => {
    const result = validateFile('api/testdata/invalid.yaml');
    expect(result.policies).toEqual([]);
    expect(result.skipped).toBe(1);
    const byPath = Object.fromEntries(result.errors.map((e) => [e.path, e]));
    expect(byPath['spec.mode']).toMatchObject({ file: 'api/testdata/invalid.yaml', line: 7 });
    expect(byPath['spec.thresholds']?.message).toBe(
      'thresholds must be ordered: challenge < restrict < deny',
    );
    expect(byPath['spec.routes[1].path']?.line).toBe(18);
  });

  it('reports YAML syntax errors with a line', () => {
    const result = validateText('apiVersion: riskgate.dev/v1alpha1\nkind: a: b\n', 'bad.yaml');
    expect(result.errors[0]).toMatchObject({ file: 'bad.yaml', line: 2 });
    expect(result.errors[0]?.message).toMatch(/not valid YAML/);
  });

  it('rejects a wrong version of our group', () => {
    const result = validateText(
      'apiVersion: riskgate.dev/v2\nkind: RiskPolicy\nmetadata: {name: a}\nspec: {selector: {}}\n',
      'v.yaml',
    );
    expect(result.errors.map((e) => e.path)).toContain('apiVersion');
  });
});

describe('YAML as kubectl reads it', () => {
  it('treats y/yes/on as booleans (YAML 1.1), so a policy that kubectl rejects is rejected here too', () => {
    const text =
      'apiVersion: riskgate.dev/v1alpha1\nkind: RiskPolicy\nmetadata: {name: a}\nspec:\n  selector: {}\n  authentication:\n    jwt:\n      - {name: a, issuer: x, audiences: [y], keysFile: k}\n';
    const result = validateText(text, 'y.yaml');
    expect(result.errors.map((e) => e.path)).toContain('spec.authentication.jwt[0].audiences[0]');
  });
});
