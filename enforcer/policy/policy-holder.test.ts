import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../test/support/temp-policy.ts';
import { PolicyHolder } from './policy-holder.ts';

const policy = (mode: string) => `apiVersion: riskgate.dev/v1alpha1
kind: RiskPolicy
metadata: {name: mounted}
spec:
  selector: {}
  mode: ${mode}
`;

let dir: string;
let holder: PolicyHolder | undefined;

afterEach(() => {
  holder?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Lays out a folder the way the kubelet mounts a ConfigMap, and swaps it the same way. */
function configMapVolume() {
  dir = mkdtempSync(join(tmpdir(), 'riskgate-cm-'));
  let version = 0;
  const publish = (content: string) => {
    const data = `..2026_11_27_00_00_0${++version}`;
    mkdirSync(join(dir, data));
    writeFileSync(join(dir, data, 'policy.yaml'), content);
    symlinkSync(data, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  };
  return { publish, link: () => symlinkSync('..data/policy.yaml', join(dir, 'policy.yaml')) };
}

describe('policy holder', () => {
  it('follows a ConfigMap volume through its atomic symlink swap', async () => {
    const volume = configMapVolume();
    volume.publish(policy('enforce'));
    volume.link();
    holder = new PolicyHolder(dir);
    expect((await holder.reload()).ok).toBe(true);
    expect(holder.current!.mode).toBe('enforce');
    holder.watch(50);
    volume.publish(policy('monitor'));
    expect(await eventually(() => holder!.current!.mode === 'monitor', 5000)).toBe(true);
  });

  it('keeps the last good policy when the folder gains a second or a broken policy', async () => {
    const volume = configMapVolume();
    volume.publish(policy('enforce'));
    volume.link();
    holder = new PolicyHolder(dir);
    await holder.reload();
    const good = holder.current!.hash;
    holder.watch(50);
    writeFileSync(join(dir, 'second.yaml'), policy('monitor').replace('mounted', 'another'));
    expect(await eventually(() => holder!.lastError !== undefined, 5000)).toBe(true);
    expect(holder.lastError).toContain('expected exactly one RiskPolicy, found 2');
    expect(holder.current!.hash).toBe(good);
  });
});
