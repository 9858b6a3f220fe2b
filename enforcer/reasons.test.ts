import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnforcerMetrics } from './observability/metrics.ts';
import { reasonCodes, signalOfReason, withReasonTables } from './reasons.ts';

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

describe('reason codes', () => {
  it('every reason code the enforcer writes is in the registry', () => {
    const registered = new Set(reasonCodes());
    const used = new Set<string>();
    const literal = /'((?:auth|request|state|geo|ip|device|behaviour)\.[a-z_.]+[a-z])'/g;
    for (const file of sources('enforcer')) {
      for (const m of readFileSync(file, 'utf8').matchAll(literal)) used.add(m[1]!);
    }
    expect(used.size).toBeGreaterThan(30);
    expect([...used].filter((c) => !registered.has(c))).toEqual([]);
  });

  it('docs/signals.md lists exactly the registry (make crds)', () => {
    const doc = readFileSync('docs/signals.md', 'utf8');
    expect(doc).toBe(withReasonTables(doc));
  });

  it('metrics label a contribution by its signal, not by a prefix of its code', async () => {
    expect(signalOfReason('geo.impossible_travel')).toBe('geoVelocity');
    expect(signalOfReason('geo.hosting_asn')).toBe('geoip');
    const metrics = new EnforcerMetrics(false);
    metrics.countSignal('geo.impossible_travel');
    metrics.countSignal('geo.hosting_asn');
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'riskgate_signal_hits_total{signal="geoVelocity",reason="geo.impossible_travel"} 1',
    );
    expect(text).toContain('riskgate_signal_hits_total{signal="geoip",reason="geo.hosting_asn"} 1');
  });
});
