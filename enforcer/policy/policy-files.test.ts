/**
 * A large policy is read, parsed and validated on a worker thread: the same policy comes back,
 * the same errors with their field paths, and a bad large policy never replaces a good one.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPolicy, loadPolicyOffThread, OFF_THREAD_BYTES, validateTextOffThread } from './policy-files.ts';
import { PolicyHolder } from './policy-holder.ts';

const dir = mkdtempSync(join(tmpdir(), 'riskgate-large-policy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const policy = (routes: number, extraRoute = '') => `apiVersion: riskgate.dev/v1alpha1
kind: RiskPolicy
metadata: {name: large, namespace: shop}
spec:
  selector: {}
  routes:
${Array.from({ length: routes }, (_, i) => `    - {name: r${i}, methods: [GET], path: /api/v1/r${i}/:id}`).join('\n')}
${extraRoute}`;

describe('large policies off the event loop', () => {
  it('loads a policy with 1,000 routes on a worker thread, as loadPolicy reads it', async () => {
    const file = join(dir, 'routes.yaml');
    writeFileSync(file, policy(1000));
    expect(policy(1000).length).toBeGreaterThan(OFF_THREAD_BYTES);
    const off = await loadPolicyOffThread(file);
    expect(off.policy).toEqual(loadPolicy(file).policy);
    expect(off.file).toBe(file);
  });

  it('refuses an invalid large policy with the field path and the reason', async () => {
    const file = join(dir, 'conflict.yaml');
    writeFileSync(file, policy(600, '    - {name: again, methods: [GET], path: /api/v1/r5/:other}'));
    await expect(loadPolicyOffThread(file)).rejects.toThrow(
      /conflict\.yaml:\d+: spec\.routes\[600\]\.path: GET \/api\/v1\/r5\/:other is already claimed by route r5/,
    );
    const text = policy(700, '    - {name: r1, methods: [GET], path: /dup}');
    const result = await validateTextOffThread(text, 'pushed config');
    expect(result.errors.map((e) => `${e.path}: ${e.message}`)).toEqual([
      expect.stringMatching(/^spec\.routes\[700\]\.name: /),
    ]);
  });

  it('keeps the running policy when a large edit is invalid', async () => {
    const file = join(dir, 'held.yaml');
    writeFileSync(file, policy(800));
    const holder = new PolicyHolder(file);
    expect((await holder.reload()).ok).toBe(true);
    const running = holder.current;
    writeFileSync(file, policy(800, '    - {name: bad, methods: [FETCH], path: /x}'));
    const refused = await holder.reload();
    expect(refused.ok).toBe(false);
    expect(refused.error).toMatch(/held\.yaml:\d+: spec\.routes\[800\]\.methods\[0\]: Invalid option/);
    expect(holder.current).toBe(running);
    holder.stop();
  });
});
