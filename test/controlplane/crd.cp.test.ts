/** The generated CRD against a real kube-apiserver: what users get from kubectl. */
import { readdirSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { validateText } from '../../api/validate.ts';
import { kubectl, kubectlIn, kubectlOk } from './kubectl.ts';

beforeAll(() => {
  kubectlOk('apply', '--server-side', '--force-conflicts', '-f', 'crds/');
  kubectlOk('wait', '--for=condition=Established', 'crd/riskpolicies.riskgate.dev', '--timeout=60s');
});

function namespacesOf(file: string): string[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS()?.metadata?.namespace)
    .filter((n): n is string => typeof n === 'string');
}

const policy = (spec: string) => `apiVersion: riskgate.dev/v1alpha1
kind: RiskPolicy
metadata: {name: probe, namespace: default}
spec:
  selector: {}
${spec}`;

describe('RiskPolicy CRD on a real apiserver', () => {
  it('accepts every example', () => {
    const files = readdirSync('examples')
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => `examples/${f}`);
    for (const ns of new Set(files.flatMap(namespacesOf))) {
      kubectlIn(`apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`, 'apply', '-f', '-');
    }
    for (const file of files) {
      const r = kubectl('apply', '--dry-run=server', '-f', file);
      expect(r.stderr, file).toBe('');
      expect(r.status, file).toBe(0);
    }
    kubectlOk('apply', '-f', 'examples/quickstart.yaml');
  });

  it.each([
    [
      'thresholds out of order',
      '  thresholds: {challenge: 70, restrict: 60, deny: 80}',
      'thresholds must be ordered: challenge < restrict < deny',
    ],
    [
      'a private key inline',
      '  authentication:\n    jwt:\n      - {name: a, issuer: x, audiences: [api], keys: [{kty: EC, d: secret}]}',
      'keys must be public keys',
    ],
    [
      'two key sources',
      '  authentication:\n    jwt:\n      - {name: a, issuer: x, audiences: [api], keysFile: k, jwksUri: "https://x/jwks"}',
      'exactly one of jwksUri, keys or keysFile',
    ],
    [
      'a bad CIDR',
      '  clientIdentity: {trustedProxies: [10.0.0.0/33]}',
      'must be an IPv4 or IPv6 address or CIDR',
    ],
    [
      'login settings on an api route',
      '  routes:\n    - {name: r, methods: [GET], path: /a, login: {}}',
      'login settings are only allowed on routes with role login',
    ],
    [
      'a feed without a source',
      '  signals:\n    ipReputation:\n      feeds: [{name: f}]',
      'exactly one of url or file',
    ],
    [
      'both country lists',
      '  signals:\n    geoip: {allowedCountries: [DE], deniedCountries: [KP]}',
      'set allowedCountries or deniedCountries, not both',
    ],
    ['a mode that does not exist', '  mode: sometimes', 'Unsupported value: "sometimes"'],
    ['an unknown field', '  modee: enforce', 'unknown field "spec.modee"'],
  ])('rejects %s with the same rule riskgate validate applies', (_name, spec, message) => {
    const r = kubectlIn(policy(spec), 'apply', '--dry-run=server', '-f', '-');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(message);
  });

  it('takes a large API: 1,024 routes accepted, the 1,025th refused with its field path', () => {
    const routes = (n: number) =>
      `  routes:\n${Array.from({ length: n }, (_, i) => `    - {name: r${i}, methods: [GET], path: /api/r${i}/:id}`).join('\n')}`;
    const most = kubectlIn(policy(routes(1024)), 'apply', '--dry-run=server', '-f', '-');
    expect(most.stderr).toBe('');
    expect(most.status).toBe(0);
    const over = kubectlIn(policy(routes(1025)), 'apply', '--dry-run=server', '-f', '-');
    expect(over.status).not.toBe(0);
    expect(over.stderr).toContain('spec.routes: Too many: 1025: must have at most 1024 items');
  });

  it('accepts inline public keys, whose `y` and `n` members must be quoted in YAML 1.1 as kubectl reads it', () => {
    const jwk = JSON.parse(readFileSync('examples/keys/demo-issuer.jwks.json', 'utf8')).keys[0];
    const spec = (y: string) =>
      `  authentication:\n    jwt:\n      - name: a\n        issuer: x\n        audiences: [api]\n        keys:\n          - kty: EC\n            crv: P-256\n            x: ${jwk.x}\n            ${y}: ${jwk.y}\n`;
    const quoted = kubectlIn(policy(spec('"y"')), 'apply', '--dry-run=server', '-f', '-');
    expect(quoted.stderr).toBe('');
    expect(quoted.status).toBe(0);
    // Unquoted, `y` is the boolean true to kubectl — and to riskgate validate, which agrees.
    const bare = kubectlIn(policy(spec('y')), 'apply', '--dry-run=server', '-f', '-');
    expect(bare.status).not.toBe(0);
    expect(validateText(policy(spec('y')), 'p.yaml').errors.length).toBeGreaterThan(0);
  });

  it('shows the printer columns and the short name', () => {
    const out = kubectlOk('get', 'rpol', '-n', 'default');
    expect(out.split('\n')[0]).toMatch(/^NAME\s+MODE\s+READY\s+SELECTED\s+UP-TO-DATE\s+UNPROTECTED\s+AGE/);
    expect(out).toMatch(/quickstart\s+enforce/);
  });

  it('teaches the API through kubectl explain', () => {
    const out = kubectlOk('explain', 'riskpolicy.spec');
    expect(out).toContain('Desired state of a RiskPolicy.');
    expect(out).toContain('monitor: score, log and count, never block');
    const thresholds = kubectlOk('explain', 'riskpolicy.spec.thresholds').replace(/\s+/g, ' ');
    expect(thresholds).toContain('before route sensitivity tightens it');
  });

  it('fills defaults on the server like the schema does', () => {
    kubectlIn(policy('  mode: monitor'), 'apply', '-f', '-');
    const stored = JSON.parse(kubectlOk('get', 'rpol', 'probe', '-n', 'default', '-o', 'json'));
    expect(stored.spec.thresholds).toEqual({ challenge: 40, restrict: 60, deny: 80 });
    expect(stored.spec.failMode).toBe('open');
    kubectlOk('delete', 'rpol', 'probe', '-n', 'default');
  });
});
