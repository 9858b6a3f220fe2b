import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generatedFiles } from './generated-files.ts';

describe('generated files', () => {
  it.each(Object.entries(generatedFiles()))(
    '%s matches what the schema generates (run make crds)',
    (path, content) => {
      expect(readFileSync(path, 'utf8')).toBe(content);
    },
  );

  it('the CRD is structural: every schema node has a type or preserves unknown fields', () => {
    const crd = parse(readFileSync('crds/riskpolicies.riskgate.dev.yaml', 'utf8'));
    const version = crd.spec.versions[0];
    const untyped: string[] = [];
    const forbidden: string[] = [];
    const walk = (node: Record<string, unknown>, path: string) => {
      if (!node.type && !node['x-kubernetes-preserve-unknown-fields'] && !node['x-kubernetes-int-or-string'])
        untyped.push(path);
      for (const key of ['anyOf', 'oneOf', 'allOf', 'not', '$ref', 'nullable'])
        if (key in node) forbidden.push(`${path}.${key}`);
      if (node.properties && node.additionalProperties)
        forbidden.push(`${path}: properties and additionalProperties`);
      for (const [k, v] of Object.entries((node.properties ?? {}) as Record<string, Record<string, unknown>>))
        walk(v, `${path}.${k}`);
      if (node.items) walk(node.items as Record<string, unknown>, `${path}[]`);
      if (typeof node.additionalProperties === 'object')
        walk(node.additionalProperties as Record<string, unknown>, `${path}{}`);
    };
    walk(version.schema.openAPIV3Schema, '');
    expect(untyped).toEqual([]);
    expect(forbidden).toEqual([]);
    expect(version.subresources).toEqual({ status: {} });
    expect(version.additionalPrinterColumns.map((c: { name: string }) => c.name)).toEqual([
      'Mode',
      'Ready',
      'Selected',
      'Up-To-Date',
      'Unprotected',
      'Age',
      'Reason',
      'Conflict',
      'Feeds',
      'Config',
    ]);
    expect(crd.spec.names.shortNames).toEqual(['rpol']);
    expect(crd.spec.scope).toBe('Namespaced');
    const spec = version.schema.openAPIV3Schema.properties.spec;
    expect(spec.properties.thresholds['x-kubernetes-validations'][0].rule).toBe(
      'self.challenge < self.restrict && self.restrict < self.deny',
    );
    expect(spec.properties.routes['x-kubernetes-list-type']).toBe('map');
  });
});
