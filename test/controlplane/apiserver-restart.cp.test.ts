/**
 * Faults of the control plane itself, on a control plane of this test's own (the shared one
 * must not go down under other tests): the operator starts while the apiserver is down and
 * before its CRD exists, and waits alive and not ready instead of exiting; then the apiserver
 * restarts under the running operator; its watches recover and it converges, and an enforcer
 * keeps enforcing throughout.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRecordingUpstream } from '../support/recording-upstream.ts';
import { checkSecurityRow } from '../support/security-doc.ts';
import { eventually } from '../support/temp-policy.ts';
import { startTestEnforcer } from '../support/test-enforcer.ts';
import { type ControlPlane, startControlPlane } from './control-plane.ts';
import { type OperatorProcess, spawnOperator } from './operator-process.ts';

let plane: ControlPlane;
let operator: OperatorProcess | undefined;

const kubectl = (input: string | undefined, ...args: string[]) =>
  spawnSync(join(plane.bin, 'kubectl'), ['--kubeconfig', plane.kubeconfig, ...args], {
    encoding: 'utf8',
    input,
  });

const policy = (mode: string) => `apiVersion: riskgate.dev/v1alpha1
kind: RiskPolicy
metadata: {name: steady, namespace: default}
spec:
  selector: {matchLabels: {app: steady}}
  mode: ${mode}
  routes:
    - {name: admin, methods: [GET], path: /admin, authentication: required}
`;

const configMapMode = () =>
  /mode: (\w+)/.exec(
    kubectl(undefined, 'get', 'configmap', 'riskgate-steady', '-o', 'jsonpath={.data.policy\\.yaml}').stdout,
  )?.[1];

beforeAll(async () => {
  plane = await startControlPlane();
  kubectl('apiVersion: v1\nkind: Namespace\nmetadata: {name: riskgate-system}\n', 'apply', '-f', '-');
}, 120_000);

afterAll(async () => {
  operator?.child.kill('SIGKILL');
  await plane?.stop();
});

async function readyz(op: OperatorProcess) {
  const res = await request(`${op.admin}/readyz`);
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

const watchErrors = async (op: OperatorProcess) =>
  (await op.metric('riskgate_operator_watch_errors_total', 'resource="riskpolicies"')) ?? 0;

describe('an operator that starts before its apiserver and its CRD', () => {
  it('stays up and says what it waits for, and leads once both are there', async () => {
    await plane.stopApiserver();
    const op = await spawnOperator(plane.kubeconfig);
    operator = op;
    // Alive (the liveness probe must leave it alone), not ready (no admission reviews), and why.
    expect(
      await eventually(
        async () =>
          (await request(`${op.admin}/healthz`).then(
            (r) => r.statusCode,
            () => 0,
          )) === 200,
        30_000,
      ),
      op.output(),
    ).toBe(true);
    expect(await eventually(async () => (await watchErrors(op)) >= 2, 30_000), op.output()).toBe(true);
    expect(await readyz(op)).toEqual({
      status: 503,
      body: { ready: false, leader: false, waitingFor: 'riskpolicies' },
    });

    // The apiserver is back, without the CRD: the list now fails with 404, and it still waits.
    await plane.startApiserver();
    const before = await watchErrors(op);
    expect(await eventually(async () => (await watchErrors(op)) > before, 30_000), op.output()).toBe(true);
    expect((await readyz(op)).status).toBe(503);
    expect(op.child.exitCode, op.output()).toBeNull();
    expect(op.output()).toContain('"resource":"riskpolicies"');

    kubectl(undefined, 'apply', '--server-side', '-f', 'crds/');
    kubectl(
      undefined,
      'wait',
      '--for=condition=Established',
      'crd/riskpolicies.riskgate.dev',
      '--timeout=60s',
    );
    expect(
      await eventually(async () => (await readyz(op)).body['leader'] === true, 60_000),
      op.output(),
    ).toBe(true);
    expect((await readyz(op)).status).toBe(200);
  }, 180_000);
});

describe('apiserver restart', () => {
  it('the operator recovers its watches and converges; the enforcer never stops enforcing', async () => {
    kubectl(policy('enforce'), 'apply', '-f', '-');
    expect(await eventually(() => configMapMode() === 'enforce', 30_000)).toBe(true);

    // An enforcer running the compiled config, as a sidecar would.
    const dir = mkdtempSync(join(tmpdir(), 'riskgate-steady-'));
    writeFileSync(
      join(dir, 'policy.yaml'),
      kubectl(undefined, 'get', 'configmap', 'riskgate-steady', '-o', 'jsonpath={.data.policy\\.yaml}')
        .stdout,
    );
    const app = await startRecordingUpstream();
    const enforcer = await startTestEnforcer(dir, app.url);
    const statuses: number[] = [];
    let stop = false;
    const load = (async () => {
      while (!stop) {
        const res = await request(`${enforcer.trafficUrl}/admin`);
        await res.body.dump();
        statuses.push(res.statusCode);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    try {
      await plane.restartApiserver();
      // A change made after the restart is seen: the watches came back.
      kubectl(policy('monitor'), 'apply', '-f', '-');
      expect(await eventually(() => configMapMode() === 'monitor', 60_000)).toBe(true);
      const maps = kubectl(undefined, 'get', 'configmaps', '-l', 'riskgate.dev/policy=steady', '-o', 'name')
        .stdout.trim()
        .split('\n');
      expect(maps).toEqual(['configmap/riskgate-steady']);
    } finally {
      stop = true;
      await load;
      await enforcer.close();
      await app.close();
    }
    // Every request during the outage was answered by the enforcer's own rule.
    expect(statuses.length).toBeGreaterThan(10);
    expect(new Set(statuses)).toEqual(new Set([401]));
    checkSecurityRow(
      'fault-apiserver',
      'every request during the restart answered by the enforcer (401, its rule); the change applied after the restart reached the ConfigMap; 1 ConfigMap',
    );
  }, 180_000);
});
