/**
 * The Helm chart with the real helm and kubectl against a real kube-apiserver: lint, template,
 * server-side dry run, install / upgrade (with a CRD change) / uninstall; the Argo CD health
 * check in a real Lua interpreter; and no drift after the operator has reconciled.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookConfiguration } from '../operator/webhook/registration.ts';
import { kubectl, kubectlIn, kubectlOk, tool } from '../test/controlplane/kubectl.ts';
import { spawnOperator } from '../test/controlplane/operator-process.ts';
import { eventually } from '../test/support/temp-policy.ts';

const CHART = 'charts/riskgate';
const CI_VALUES = readdirSync(`${CHART}/ci`).map((f) => `${CHART}/ci/${f}`);
const helm = (...args: string[]) => tool('helm', args);

const standIn = (group: string, kind: string, plural: string) => `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: ${plural}.${group}}
spec:
  group: ${group}
  names: {kind: ${kind}, plural: ${plural}, listKind: ${kind}List, singular: ${kind.toLowerCase()}}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`;

beforeAll(() => {
  // Stand-in CRDs so ServiceMonitors and cert-manager objects can be validated; the Prometheus
  // Operator and cert-manager themselves are not part of this project.
  kubectlIn(standIn('monitoring.coreos.com', 'ServiceMonitor', 'servicemonitors'), 'apply', '-f', '-');
  kubectlIn(standIn('cert-manager.io', 'Certificate', 'certificates'), 'apply', '-f', '-');
  kubectlIn(standIn('cert-manager.io', 'Issuer', 'issuers'), 'apply', '-f', '-');
  kubectlOk(
    'wait',
    '--for=condition=Established',
    'crd/certificates.cert-manager.io',
    'crd/issuers.cert-manager.io',
    '--timeout=60s',
  );
  kubectlIn('apiVersion: v1\nkind: Namespace\nmetadata: {name: riskgate-system}\n', 'apply', '-f', '-');
  kubectlOk(
    'wait',
    '--for=condition=Established',
    'crd/servicemonitors.monitoring.coreos.com',
    '--timeout=60s',
  );
});

describe('helm chart', () => {
  it.each([['default values', undefined], ...CI_VALUES.map((f) => [f, f] as const)])(
    'lints and renders with %s',
    (_n, file) => {
      const values = file ? ['-f', file] : [];
      const lint = helm('lint', CHART, ...values);
      expect(lint.stdout + lint.stderr).toContain('0 chart(s) failed');
      const rendered = helm(
        'template',
        'riskgate',
        CHART,
        '--namespace',
        'riskgate-system',
        '--kube-version',
        '1.36.3',
        ...values,
      );
      expect(rendered.stderr).toBe('');
      expect(rendered.status).toBe(0);
      const dry = kubectlIn(
        rendered.stdout,
        'apply',
        '--server-side',
        '--force-conflicts',
        '--dry-run=server',
        '-n',
        'riskgate-system',
        '-f',
        '-',
      );
      expect(dry.stderr).toBe('');
      expect(dry.status).toBe(0);
    },
  );

  it('refuses a typo in values at install (values.schema.json)', () => {
    const typo = helm('template', 'riskgate', CHART, '--set', 'operator.replica=3');
    expect(typo.status).not.toBe(0);
    expect(typo.stderr).toMatch(/additional properties 'replica' not allowed|replica/);
    const bad = helm('template', 'riskgate', CHART, '--set', 'operator.failurePolicy=Sometimes');
    expect(bad.status).not.toBe(0);
  });

  it('installs, upgrades with a CRD change, and uninstalls', () => {
    // The CRD may exist already (applied by kubectl in another test): the chart adopts it.
    const install = helm(
      'install',
      'riskgate',
      CHART,
      '--namespace',
      'riskgate-system',
      '--wait=false',
      '--take-ownership',
    );
    expect(install.stderr).toBe('');
    expect(install.stdout).toContain('riskgate.dev/inject=enabled'); // NOTES.txt tells what to do next
    for (const [kind, name] of [
      ['deployment', 'riskgate-operator'],
      ['serviceaccount', 'riskgate-operator'],
      ['service', 'riskgate-webhook'],
      ['poddisruptionbudget', 'riskgate-operator'],
      ['statefulset', 'riskgate-redis'],
      ['role', 'riskgate-operator'],
      ['networkpolicy', 'riskgate-redis'],
    ]) {
      expect(kubectl('get', kind!, name!, '-n', 'riskgate-system').status, `${kind}/${name}`).toBe(0);
    }
    expect(kubectl('get', 'clusterrole', 'riskgate-operator').status).toBe(0);
    const deployment = JSON.parse(
      kubectlOk('get', 'deployment', 'riskgate-operator', '-n', 'riskgate-system', '-o', 'json'),
    );
    expect(deployment.spec.replicas).toBe(2);
    const container = deployment.spec.template.spec.containers[0];
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
    });
    expect(container.args).toContain('--webhook-service=riskgate-webhook:443');
    expect(container.args).toContain('--sidecar-requests=cpu=50m,memory=256Mi,');
    // Redis: a password by default (the operator makes it), and a memory ceiling below its limit.
    expect(container.args).toContain('--redis-password-create');
    const redisArgs = JSON.parse(
      kubectlOk('get', 'statefulset', 'riskgate-redis', '-n', 'riskgate-system', '-o', 'json'),
    ).spec.template.spec.containers[0].args as string[];
    expect(redisArgs.join(' ')).toContain(
      '--maxmemory 200mb --maxmemory-policy volatile-lru --requirepass $(REDIS_PASSWORD)',
    );

    // A new chart version whose CRD gained a printer column: helm upgrade must apply it.
    const next = join(mkdtempSync(join(tmpdir(), 'riskgate-chart-')), 'riskgate');
    cpSync(CHART, next, { recursive: true });
    const crdFile = join(next, 'files/riskpolicies.riskgate.dev.yaml');
    writeFileSync(
      crdFile,
      readFileSync(crdFile, 'utf8').replace(
        '        - name: Age',
        '        - name: Fail-Mode\n          type: string\n          jsonPath: .spec.failMode\n        - name: Age',
      ),
    );
    const upgrade = helm('upgrade', 'riskgate', next, '--namespace', 'riskgate-system', '--wait=false');
    expect(upgrade.stderr).toBe('');
    const crd = JSON.parse(kubectlOk('get', 'crd', 'riskpolicies.riskgate.dev', '-o', 'json'));
    expect(crd.spec.versions[0].additionalPrinterColumns.map((c: { name: string }) => c.name)).toContain(
      'Fail-Mode',
    );
    expect(crd.metadata.annotations['helm.sh/resource-policy']).toBe('keep');

    const uninstall = helm('uninstall', 'riskgate', '--namespace', 'riskgate-system');
    expect(uninstall.status).toBe(0);
    // No webhook outlives the release: with failurePolicy Fail it would refuse every pod.
    expect(kubectl('get', 'mutatingwebhookconfiguration', 'riskgate-injector').status).not.toBe(0);
    expect(kubectl('get', 'deployment', 'riskgate-operator', '-n', 'riskgate-system').status).not.toBe(0);
    expect(kubectl('get', 'clusterrole', 'riskgate-operator').status).not.toBe(0);
    // The CRD, and with it every RiskPolicy, stays.
    expect(kubectl('get', 'crd', 'riskpolicies.riskgate.dev').status).toBe(0);
  });
});

/** JSON → a Lua table literal. */
function lua(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (Array.isArray(value)) return `{${value.map(lua).join(', ')}}`;
  if (typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `[${JSON.stringify(k)}] = ${lua(v)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(value);
}

function health(obj: unknown): { status: string; message: string } {
  const script = readFileSync('docs/gitops/riskpolicy-health.lua', 'utf8');
  const program = `local obj = ${lua(obj)}\nlocal function check(obj)\n${script}\nend\nlocal hs = check(obj)\nprint(hs.status .. "\\t" .. hs.message)\n`;
  const r = spawnSync('lua5.4', ['-'], { input: program, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const [status, message] = r.stdout.trim().split('\t') as [string, string];
  return { status, message };
}

describe('Argo CD health check (Lua)', () => {
  const base = {
    apiVersion: 'riskgate.dev/v1alpha1',
    kind: 'RiskPolicy',
    metadata: { name: 'p', generation: 3 },
  };
  it.each([
    ['no status yet', 'Progressing', { ...base }],
    [
      'an older generation observed',
      'Progressing',
      { ...base, status: { observedGeneration: 2, conditions: [{ type: 'Ready', status: 'True' }] } },
    ],
    [
      'Ready=True at the current generation',
      'Healthy',
      {
        ...base,
        status: {
          observedGeneration: 3,
          conditions: [{ type: 'Ready', status: 'True', message: 'config abc published' }],
        },
      },
    ],
    [
      'Ready=False',
      'Degraded',
      {
        ...base,
        status: {
          observedGeneration: 3,
          conditions: [
            { type: 'Ready', status: 'False', reason: 'InvalidSpec', message: 'spec.routes: conflict' },
          ],
        },
      },
    ],
    ['no Ready condition', 'Progressing', { ...base, status: { observedGeneration: 3, conditions: [] } }],
  ])('%s → %s', (_name, expected, obj) => {
    expect(health(obj).status).toBe(expected);
  });

  it('says why it is degraded', () => {
    const r = health({
      ...base,
      status: {
        observedGeneration: 3,
        conditions: [{ type: 'Ready', status: 'False', message: 'spec.routes: conflict' }],
      },
    });
    expect(r.message).toBe('spec.routes: conflict');
  });
});

describe('the webhook configuration belongs to the release', () => {
  let child: import('node:child_process').ChildProcess | undefined;

  afterAll(() => {
    child?.kill('SIGKILL');
    helm('uninstall', 'webhook-owner', '--namespace', 'riskgate-system');
  });

  it('is what the operator would write, and the operator only fills in its CA bundle', async () => {
    const install = helm(
      'install',
      'webhook-owner',
      CHART,
      '--namespace',
      'riskgate-system',
      '--set',
      'operator.failurePolicy=Fail',
      '--set',
      'crds.install=false',
      '--wait=false',
      '--take-ownership',
    );
    expect(install.stderr).toBe('');
    const read = () =>
      JSON.parse(kubectlOk('get', 'mutatingwebhookconfiguration', 'riskgate-injector', '-o', 'json'));
    const chart = read();
    expect(chart.metadata.labels['app.kubernetes.io/managed-by']).toBe('Helm');
    // One source of truth: the chart's template equals the operator's own, but for the CA bundle.
    const own = webhookConfiguration({
      name: 'riskgate-injector',
      caPem: 'x',
      service: { namespace: 'riskgate-system', name: 'riskgate-webhook', port: 443 },
      operatorNamespace: 'riskgate-system',
      failurePolicy: 'Fail',
    });
    const comparable = (webhooks: { clientConfig: { caBundle?: string } }[]) =>
      JSON.parse(
        JSON.stringify(
          webhooks.map((w) => ({ ...w, clientConfig: { ...w.clientConfig, caBundle: undefined } })),
        ),
      );
    expect(comparable(chart.webhooks)).toEqual(
      comparable(own.webhooks as { clientConfig: { caBundle?: string } }[]).map(
        (w: Record<string, unknown>) => ({
          ...w,
          // the apiserver's defaults for what neither side sets
          matchPolicy: 'Equivalent',
          objectSelector: w['objectSelector'] ?? {},
        }),
      ),
    );

    const { inject } = await import('vitest');
    child = (
      await spawnOperator(inject('kubeconfig'), [
        '--identity',
        'webhook-owner',
        '--owner-deployment',
        'riskgate-operator',
      ])
    ).child;
    expect(
      await eventually(
        () => read().webhooks.every((w: { clientConfig: { caBundle?: string } }) => w.clientConfig.caBundle),
        30_000,
      ),
    ).toBe(true);
    const after = read();
    expect(comparable(after.webhooks)).toEqual(comparable(chart.webhooks));
    expect(after.metadata.labels['app.kubernetes.io/managed-by']).toBe('Helm');

    // What the operator makes for itself is owned by the release's Deployment, so the garbage
    // collector removes it with the release (none runs here: the references are what is checked).
    const uid = JSON.parse(
      kubectlOk('get', 'deployment', 'riskgate-operator', '-n', 'riskgate-system', '-o', 'json'),
    ).metadata.uid;
    const ownedBy = (kind: string, name: string) =>
      (
        JSON.parse(kubectlOk('get', kind, name, '-n', 'riskgate-system', '-o', 'json')).metadata
          .ownerReferences ?? []
      ).map((r: { kind: string; uid: string }) => `${r.kind}/${r.uid}`);
    expect(
      await eventually(() => ownedBy('lease', 'riskgate-operator').includes(`Deployment/${uid}`), 20_000),
    ).toBe(true);
    expect(ownedBy('secret', 'riskgate-config-signer')).toContain(`Deployment/${uid}`);
  });
});

describe('GitOps: no drift', () => {
  let child: import('node:child_process').ChildProcess | undefined;

  afterAll(() => {
    child?.kill('SIGKILL');
  });

  it('leaves the RiskPolicy spec and the Deployment exactly as applied after the operator reconciled', async () => {
    kubectlIn(
      'apiVersion: v1\nkind: Namespace\nmetadata: {name: gitops, labels: {riskgate.dev/inject: enabled}}\n',
      'apply',
      '-f',
      '-',
    );
    kubectlOk('apply', '--server-side', '-f', 'crds/', '--force-conflicts');
    const manifests = `${readFileSync('examples/quickstart.yaml', 'utf8').replace('  name: quickstart\n', '  name: quickstart\n  namespace: gitops\n')}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop, namespace: gitops}
spec:
  replicas: 1
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec:
      containers:
        - name: app
          image: registry.example/shop:1
          ports: [{name: http, containerPort: 8080}]
`;
    const file = join(mkdtempSync(join(tmpdir(), 'riskgate-gitops-')), 'app.yaml');
    writeFileSync(file, manifests);
    kubectlOk('apply', '--server-side', '--field-manager=argocd', '-f', file);

    const { inject } = await import('vitest');
    child = (await spawnOperator(inject('kubeconfig'), ['--identity', 'gitops'])).child;
    const ready = () =>
      JSON.parse(
        kubectlOk('get', 'rpol', 'quickstart', '-n', 'gitops', '-o', 'json'),
      ).status?.conditions?.find((c: { type: string }) => c.type === 'Ready');
    expect(await eventually(() => ready()?.status === 'True', 30_000)).toBe(true);
    expect(ready().reason).toBe('CompiledWithWarnings'); // the file feed is for standalone use
    expect(kubectl('get', 'configmap', 'riskgate-quickstart', '-n', 'gitops').status).toBe(0);

    const diff = kubectl('diff', '--server-side', '--field-manager=argocd', '-f', file);
    expect(diff.stdout).toBe('');
    expect(diff.status).toBe(0);
  });
});
