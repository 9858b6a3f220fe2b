/**
 * Golden files for injection, as Istio reviews its injector: each testdata/NAME.in.yaml is a pod
 * as submitted; NAME.golden.yaml is exactly what the webhook makes of it. Regenerate with
 * UPDATE_GOLDEN=1 and review the diff.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  appPortOf,
  appProtocolOf,
  type InjectedPolicy,
  InjectionError,
  type InjectionSettings,
  inject,
  injectionPatch,
} from './inject.ts';

const DIR = join(import.meta.dirname, 'testdata');
const SETTINGS: InjectionSettings = {
  image: 'registry.example/riskgate:0.1.0',
  resources: { requests: { cpu: '50m', memory: '96Mi' }, limits: { memory: '256Mi' } },
  redis: {
    url: 'redis://riskgate-redis.riskgate-system:6379',
    authenticated: true,
  },
  powKeySecret: 'riskgate-pow-key',
};

const QUICKSTART: InjectedPolicy = { name: 'quickstart', secrets: [] };
/** The policy that selects each case's pod, where it is not the quickstart. */
const POLICIES: Record<string, InjectedPolicy> = {
  'api-key-secret.in.yaml': { name: 'reports', secrets: [{ name: 'reports-api-keys', key: 'keys' }] },
};

describe('sidecar injection (golden files)', () => {
  const cases = readdirSync(DIR).filter((f) => f.endsWith('.in.yaml'));
  it.each(cases)('%s', (file) => {
    const pod = parse(readFileSync(join(DIR, file), 'utf8')) as V1Pod;
    const injected = inject(pod, POLICIES[file] ?? QUICKSTART, SETTINGS);
    // The warnings the apiserver shows the pod's author, then the injected pod.
    const text = `${injected.warnings.map((w) => `# warning: ${w}\n`).join('')}${stringify(injected.pod, { lineWidth: 0 })}`;
    const golden = join(DIR, file.replace('.in.yaml', '.golden.yaml'));
    if (process.env['UPDATE_GOLDEN']) writeFileSync(golden, text);
    expect(text).toBe(readFileSync(golden, 'utf8'));
  });

  it('is idempotent', () => {
    const pod = parse(readFileSync(join(DIR, 'named-port.in.yaml'), 'utf8')) as V1Pod;
    const once = inject(pod, QUICKSTART, SETTINGS).pod;
    expect(inject(once, QUICKSTART, SETTINGS).pod).toEqual(once);
  });

  it('produces a JSON patch that turns the pod into the injected pod', () => {
    const pod = parse(readFileSync(join(DIR, 'named-port.in.yaml'), 'utf8')) as V1Pod;
    const after = inject(pod, QUICKSTART, SETTINGS).pod;
    const patched = structuredClone(pod) as unknown as Record<string, Record<string, unknown>>;
    for (const op of injectionPatch(pod, after)) {
      const [, top, field] = op.path.split('/') as [string, string, string];
      patched[top]![field] = op.value;
    }
    expect(patched).toEqual(after);
  });

  it('refuses a pod with no port to protect, and a bad annotation', () => {
    expect(() => appPortOf({ spec: { containers: [{ name: 'c' }] } })).toThrow(InjectionError);
    expect(() =>
      appPortOf({
        metadata: { annotations: { 'riskgate.dev/app-port': '15080' } },
        spec: { containers: [{ name: 'c' }] },
      }),
    ).toThrow(/not a usable port/);
  });

  it('reads the app protocol from the annotation, else the port name, and refuses an unknown one', () => {
    const pod = (annotation?: string) => ({
      ...(annotation ? { metadata: { annotations: { 'riskgate.dev/app-protocol': annotation } } } : {}),
      spec: { containers: [{ name: 'c' }] },
    });
    expect(appProtocolOf(pod('gRPC'), undefined)).toBe('h2c');
    expect(appProtocolOf(pod('kubernetes.io/h2c'), { containerPort: 80, name: 'http' })).toBe('h2c');
    expect(appProtocolOf(pod('http1'), { containerPort: 80, name: 'grpc' })).toBe('http1');
    expect(appProtocolOf(pod(), { containerPort: 80, name: 'http2-web' })).toBe('h2c');
    expect(appProtocolOf(pod(), { containerPort: 80, name: 'grpcweb' })).toBe('http1');
    expect(appProtocolOf(pod(), { containerPort: 80 })).toBe('http1');
    expect(() => appProtocolOf(pod('h3'), undefined)).toThrow(/not http1, h2c or grpc/);
  });

  it('gives every port a valid name of at most 15 characters, unique in the pod', () => {
    for (const file of readdirSync(DIR).filter((f) => f.endsWith('.in.yaml'))) {
      const pod = parse(readFileSync(join(DIR, file), 'utf8')) as V1Pod;
      const { pod: injected } = inject(pod, POLICIES[file] ?? QUICKSTART, SETTINGS);
      const names = [...(injected.spec!.initContainers ?? []), ...injected.spec!.containers]
        .flatMap((c) => c.ports ?? [])
        .map((p) => p.name)
        .filter((n): n is string => n !== undefined);
      expect(new Set(names).size, file).toBe(names.length);
      for (const n of names)
        expect(n, file).toMatch(/^(?=.*[a-z])(?!.*--)[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$/);
    }
  });

  it('never gives the Service-facing name to the app: the Service reaches the enforcer', () => {
    const pod = parse(readFileSync(join(DIR, 'long-port-name.in.yaml'), 'utf8')) as V1Pod;
    const { pod: injected } = inject(pod, QUICKSTART, SETTINGS);
    const owner = [...injected.spec!.initContainers!, ...injected.spec!.containers].filter((c) =>
      (c.ports ?? []).some((p) => p.name === 'webserver-https'),
    );
    expect(owner.map((c) => c.name)).toEqual(['riskgate-enforcer']);
  });
});
