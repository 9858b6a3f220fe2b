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
import { appPortOf, InjectionError, type InjectionSettings, inject, injectionPatch } from './inject.ts';

const DIR = join(import.meta.dirname, 'testdata');
const SETTINGS: InjectionSettings = {
  image: 'registry.example/riskgate:0.1.0',
  resources: { requests: { cpu: '50m', memory: '96Mi' }, limits: { memory: '256Mi' } },
  redis: {
    url: 'redis://riskgate-redis.riskgate-system:6379',
    passwordSecret: { name: 'riskgate-redis', key: 'password' },
  },
  powKeySecret: 'riskgate-pow-key',
};

describe('sidecar injection (golden files)', () => {
  const cases = readdirSync(DIR).filter((f) => f.endsWith('.in.yaml'));
  it.each(cases)('%s', (file) => {
    const pod = parse(readFileSync(join(DIR, file), 'utf8')) as V1Pod;
    const injected = inject(pod, 'quickstart', SETTINGS);
    const text = stringify(injected, { lineWidth: 0 });
    const golden = join(DIR, file.replace('.in.yaml', '.golden.yaml'));
    if (process.env['UPDATE_GOLDEN']) writeFileSync(golden, text);
    expect(text).toBe(readFileSync(golden, 'utf8'));
  });

  it('is idempotent', () => {
    const pod = parse(readFileSync(join(DIR, 'named-port.in.yaml'), 'utf8')) as V1Pod;
    const once = inject(pod, 'quickstart', SETTINGS);
    expect(inject(once, 'quickstart', SETTINGS)).toEqual(once);
  });

  it('produces a JSON patch that turns the pod into the injected pod', () => {
    const pod = parse(readFileSync(join(DIR, 'named-port.in.yaml'), 'utf8')) as V1Pod;
    const after = inject(pod, 'quickstart', SETTINGS);
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
});
