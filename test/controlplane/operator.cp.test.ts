/**
 * The operator against a real kube-apiserver + etcd: reconcile, status, injection through the
 * real admission chain, enforcers reporting their config through a real Redis, restarts and
 * leader election.
 */

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { validateText } from '../../api/validate.ts';
import type { RunningEnforcer } from '../../enforcer/enforcer.ts';
import { startRecordingUpstream } from '../support/recording-upstream.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { checkSecurityRow } from '../support/security-doc.ts';
import { eventually } from '../support/temp-policy.ts';
import { startTestEnforcer } from '../support/test-enforcer.ts';
import { kubectl, kubectlIn, kubectlOk } from './kubectl.ts';
import { spawnOperator } from './operator-process.ts';

// Not `shop`: the recipes test creates that one as the chart README says, on a cluster without it.
const NS = 'operator-test';
const jwks = readFileSync('examples/keys/demo-issuer.jwks.json', 'utf8');

const policy = (name: string, extra = '') => `apiVersion: riskgate.dev/v1alpha1
kind: RiskPolicy
metadata: {name: ${name}, namespace: ${NS}}
spec:
  selector: {matchLabels: {app: ${name}}}
  clientIdentity: {trustedProxies: [10.0.0.0/8]}
  authentication:
    jwt:
      - name: demo
        issuer: https://issuer.demo.riskgate.dev
        audiences: [shop-api]
        keys: ${JSON.stringify(JSON.parse(jwks).keys)}
        algorithms: [ES256]
  routes:
    - {name: transfer, methods: [POST], path: /transfer, sensitivity: critical, authentication: required}
${extra}`;

let redis: RedisServer & { destroy?: () => Promise<void> };

/** The operator as it runs: `bin/riskgate operator`, a real process (its webhook must answer the
 * apiserver while this test process waits on kubectl). */
interface ReplicaProcess {
  child: ChildProcess;
  admin: string;
  isLeader: () => Promise<boolean>;
}
const operators: ReplicaProcess[] = [];

async function operator(identity: string): Promise<ReplicaProcess> {
  const { child, admin, output } = await spawnOperator(inject('kubeconfig'), [
    '--identity',
    identity,
    '--failure-policy',
    'Fail',
    '--image',
    'registry.example/riskgate:test',
    '--redis',
    redis.url,
  ]);
  const op: ReplicaProcess = {
    child,
    admin,
    isLeader: async () => {
      try {
        const res = await request(`${admin}/readyz`);
        return (JSON.parse(await res.body.text()) as { leader: boolean }).leader;
      } catch {
        return false;
      }
    },
  };
  operators.push(op);
  expect(
    await eventually(
      async () =>
        (await request(`${admin}/healthz`).then(
          (r) => r.statusCode,
          () => 0,
        )) === 200,
      20_000,
    ),
    output(),
  ).toBe(true);
  return op;
}

/** Stops a replica; one that has not exited 20 s after SIGTERM fails the test (and is killed). */
async function stop(op: ReplicaProcess, signal: NodeJS.Signals = 'SIGTERM') {
  const exited =
    op.child.exitCode !== null ? Promise.resolve() : new Promise((r) => op.child.once('exit', r));
  op.child.kill(signal);
  const inTime = await Promise.race([
    exited.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), 20_000)),
  ]);
  operators.splice(operators.indexOf(op), 1);
  if (!inTime) {
    op.child.kill('SIGKILL');
    throw new Error(`operator did not exit within 20 s of ${signal}`);
  }
}

const status = (name: string) =>
  JSON.parse(kubectlOk('get', 'rpol', name, '-n', NS, '-o', 'json')) as {
    metadata: { generation: number };
    status?: {
      observedGeneration?: number;
      configHash?: string;
      conditions?: { type: string; status: string; reason: string; message: string }[];
      enforcers?: { selected: number; upToDate: number };
    };
  };
const ready = (name: string) => status(name).status?.conditions?.find((c) => c.type === 'Ready');
const exists = (...args: string[]) => kubectl('get', ...args, '-n', NS).status === 0;

beforeAll(async () => {
  redis = await startRedisServer();
  kubectlOk('apply', '--server-side', '--force-conflicts', '-f', 'crds/');
  kubectlOk('wait', '--for=condition=Established', 'crd/riskpolicies.riskgate.dev', '--timeout=60s');
  kubectlIn(
    `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${NS}, labels: {riskgate.dev/inject: enabled}}\n`,
    'apply',
    '-f',
    '-',
  );
  kubectlIn('apiVersion: v1\nkind: Namespace\nmetadata: {name: riskgate-system}\n', 'apply', '-f', '-');
});

afterAll(async () => {
  for (const op of [...operators]) await stop(op, 'SIGKILL');
  await redis?.destroy?.();
  // Its webhook answered at a URL of a process now gone; other files install the chart's.
  kubectl('delete', 'mutatingwebhookconfiguration', 'riskgate-injector', '--ignore-not-found');
});

describe('operator', () => {
  let leader: ReplicaProcess;
  let enforcer: RunningEnforcer | undefined;

  afterAll(async () => {
    await enforcer?.close();
  });

  it('reconciles a RiskPolicy to Ready with its ConfigMap, NetworkPolicy and status', async () => {
    leader = await operator('replica-a');
    expect(await eventually(() => leader.isLeader(), 10_000)).toBe(true);
    kubectlIn(policy('shop'), 'apply', '-f', '-');
    expect(await eventually(() => ready('shop')?.status === 'True', 20_000)).toBe(true);
    const s = status('shop');
    expect(s.status?.observedGeneration).toBe(s.metadata.generation);
    expect(s.status?.configHash).toMatch(/^[0-9a-f]{16}$/);

    const cm = JSON.parse(kubectlOk('get', 'configmap', 'riskgate-shop', '-n', NS, '-o', 'json'));
    const compiled = validateText(cm.data['policy.yaml'], 'configmap');
    expect(compiled.errors).toEqual([]);
    expect(compiled.policies[0]?.policy.metadata.name).toBe('shop');
    expect(cm.metadata.ownerReferences[0]).toMatchObject({
      kind: 'RiskPolicy',
      name: 'shop',
      controller: true,
    });

    const np = JSON.parse(kubectlOk('get', 'networkpolicy', 'riskgate-shop', '-n', NS, '-o', 'json'));
    // Only pods the injector marked: a selected pod without an enforcer keeps its ports.
    expect(np.spec.podSelector).toEqual({ matchLabels: { 'riskgate.dev/protected-by': 'shop' } });
    expect(np.spec.policyTypes).toEqual(['Ingress']);
    expect(np.spec.ingress).toEqual([
      { ports: [{ protocol: 'TCP', port: 15080 }] },
      { ports: [{ protocol: 'TCP', port: 15090 }] },
    ]);

    const columns = kubectlOk('get', 'rpol', 'shop', '-n', NS);
    expect(columns).toMatch(/shop\s+enforce\s+True\s+0\s+0\s+0/);
    const events = kubectlOk(
      'get',
      'events',
      '-n',
      NS,
      '--field-selector',
      'involvedObject.name=shop',
      '-o',
      'json',
    );
    expect(JSON.parse(events).items.map((e: { reason: string }) => e.reason)).toContain('ConfigApplied');
  });

  it('injects the enforcer into a pod created in an opted-in namespace, through the real admission chain', async () => {
    const created = kubectlIn(
      `apiVersion: v1
kind: Pod
metadata: {name: shop-1, namespace: ${NS}, labels: {app: shop}}
spec:
  containers:
    - name: app
      image: registry.example/shop:1
      ports: [{name: http, containerPort: 8080}]
`,
      'apply',
      '-f',
      '-',
    );
    expect(created.stderr).toBe('');
    const pod = JSON.parse(kubectlOk('get', 'pod', 'shop-1', '-n', NS, '-o', 'json'));
    const sidecar = pod.spec.initContainers[0];
    expect(sidecar.name).toBe('riskgate-enforcer');
    expect(sidecar.restartPolicy).toBe('Always');
    expect(
      sidecar.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]),
    ).toEqual([
      ['http', 15080],
      ['riskgate-admin', 15090],
    ]);
    expect(pod.spec.containers[0].ports[0]).toMatchObject({ name: 'rg-app-8080', containerPort: 8080 });
    expect(pod.metadata.labels['riskgate.dev/protected-by']).toBe('shop');
    expect(pod.spec.volumes).toContainEqual({
      name: 'riskgate-policy',
      configMap: { name: 'riskgate-shop', defaultMode: 420 },
    });
    expect(pod.metadata.annotations['riskgate.dev/policy']).toBe('shop');

    // A pod no policy selects, or outside an opted-in namespace, is left alone.
    kubectlIn(
      `apiVersion: v1\nkind: Pod\nmetadata: {name: other, namespace: ${NS}, labels: {app: other}}\nspec: {containers: [{name: c, image: x}]}\n`,
      'apply',
      '-f',
      '-',
    );
    expect(
      JSON.parse(kubectlOk('get', 'pod', 'other', '-n', NS, '-o', 'json')).spec.initContainers,
    ).toBeUndefined();
  });

  it('counts selected pods and enforcers running the current config (reported through Redis)', async () => {
    const cm = JSON.parse(kubectlOk('get', 'configmap', 'riskgate-shop', '-n', NS, '-o', 'json'));
    const dir = mkdtempSync(join(tmpdir(), 'riskgate-cm-'));
    // As the kubelet mounts it: every key a file (the policy, the signer key, the issue time).
    for (const [file, text] of Object.entries(cm.data as Record<string, string>))
      writeFileSync(join(dir, file), text);
    const app = await startRecordingUpstream();
    enforcer = await startTestEnforcer(join(dir, 'policy.yaml'), app.url, {
      redisUrl: redis.url,
      pod: { name: 'shop-1', namespace: NS },
    });
    expect(await eventually(() => status('shop').status?.enforcers?.upToDate === 1, 20_000)).toBe(true);
    expect(status('shop').status?.enforcers?.selected).toBe(1);
  });

  it('rolls an edit out to the ConfigMap and status; an invalid edit keeps the last good config', async () => {
    const before = status('shop').status!.configHash!;
    kubectlIn(policy('shop', '  mode: monitor\n'), 'apply', '-f', '-');
    expect(await eventually(() => status('shop').status?.configHash !== before, 20_000)).toBe(true);
    const s = status('shop');
    expect(s.status?.observedGeneration).toBe(s.metadata.generation);
    expect(
      kubectlOk('get', 'configmap', 'riskgate-shop', '-n', NS, '-o', 'jsonpath={.data.policy\\.yaml}'),
    ).toContain('mode: monitor');
    // The fast path: the enforcer's mounted copy never changed, yet it runs the new config,
    // pushed through Redis, and reports it.
    expect(await eventually(() => enforcer?.holder.current?.mode === 'monitor', 10_000)).toBe(true);
    expect(enforcer?.holder.current?.hash).toBe(s.status?.configHash);
    expect(await eventually(() => status('shop').status?.enforcers?.upToDate === 1, 20_000)).toBe(true);

    const good = s.status!.configHash!;
    // Valid for the CRD, not for a cluster: key files only exist next to a standalone enforcer.
    kubectlIn(policy('shop').replace(/keys: .*/, 'keysFile: keys/demo.json'), 'apply', '-f', '-');
    expect(await eventually(() => ready('shop')?.status === 'False', 20_000)).toBe(true);
    expect(ready('shop')?.reason).toBe('InvalidSpec');
    // The pod keeps running the last good config: it is still counted.
    expect(status('shop').status?.enforcers?.selected).toBe(1);
    expect(ready('shop')?.message).toContain('keysFile');
    expect(status('shop').status?.configHash).toBe(good);
    checkSecurityRow(
      'fault-riskpolicy',
      `CRD: CEL messages (test/controlplane/crd.cp.test.ts); operator: Ready=False \`${ready('shop')?.reason}\`, status.configHash and the ConfigMap unchanged`,
    );
    expect(
      kubectlOk('get', 'configmap', 'riskgate-shop', '-n', NS, '-o', 'jsonpath={.data.policy\\.yaml}'),
    ).toContain('mode: monitor');

    kubectlIn(policy('shop'), 'apply', '-f', '-');
    expect(await eventually(() => ready('shop')?.status === 'True', 20_000)).toBe(true);
  });

  it('fetches URL feeds once for the cluster and shares them with the enforcers through Redis', async () => {
    const feedServer = await startRecordingUpstream();
    feedServer.respond = (_req, res) => res.end('203.0.113.0/24\n');
    kubectlIn(
      `apiVersion: riskgate.dev/v1alpha1
kind: RiskPolicy
metadata: {name: feeds, namespace: ${NS}}
spec:
  selector: {matchLabels: {app: feeds}}
  clientIdentity: {trustedProxies: [127.0.0.0/8]}
  signals:
    ipReputation:
      feeds:
        - {name: shared, url: "${feedServer.url}/list.txt", refreshInterval: 1h}
`,
      'apply',
      '-f',
      '-',
    );
    expect(
      await eventually(() => ready('feeds')?.status === 'True' && feedServer.requests.length > 0, 20_000),
    ).toBe(true);
    const fetchedByOperator = feedServer.requests.length;

    const cm = JSON.parse(kubectlOk('get', 'configmap', 'riskgate-feeds', '-n', NS, '-o', 'json'));
    const dir = mkdtempSync(join(tmpdir(), 'riskgate-feeds-'));
    for (const [file, text] of Object.entries(cm.data as Record<string, string>))
      writeFileSync(join(dir, file), text);
    const app = await startRecordingUpstream();
    let sidecar: RunningEnforcer | undefined;
    try {
      sidecar = await startTestEnforcer(join(dir, 'policy.yaml'), app.url, {
        redisUrl: redis.url,
        pod: { name: 'feeds-1', namespace: NS },
      });
      const res = await request(`${sidecar.trafficUrl}/`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
      await res.body.dump();
      expect(res.statusCode).toBe(403);
      // The enforcer had the list without fetching it.
      expect(feedServer.requests.length).toBe(fetchedByOperator);
    } finally {
      await sidecar?.close();
      await app.close();
      await feedServer.close();
    }
    kubectlOk('delete', 'rpol', 'feeds', '-n', NS);
  });

  it('loses nothing when killed and restarted, and converges without duplicates', async () => {
    await stop(leader, 'SIGKILL');
    kubectlIn(policy('later'), 'apply', '-f', '-');
    leader = await operator('replica-b');
    expect(await eventually(() => ready('later')?.status === 'True', 30_000)).toBe(true);
    const cms = JSON.parse(
      kubectlOk('get', 'configmaps', '-n', NS, '-l', 'riskgate.dev/policy', '-o', 'json'),
    ).items;
    expect(cms.map((c: { metadata: { name: string } }) => c.metadata.name).sort()).toEqual([
      'riskgate-later',
      'riskgate-shop',
    ]);
    checkSecurityRow(
      'fault-operator-kill',
      `a policy created while the operator was dead became Ready after the restart; ${cms.length} ConfigMaps for 2 policies`,
    );
  });

  it('cleans up what it created when a policy is deleted', async () => {
    kubectlOk('delete', 'rpol', 'later', '-n', NS);
    expect(
      await eventually(
        () => !exists('configmap', 'riskgate-later') && !exists('networkpolicy', 'riskgate-later'),
        20_000,
      ),
    ).toBe(true);
    expect(exists('configmap', 'riskgate-shop')).toBe(true);
  });

  it('elects one leader among two replicas, and hands over when it stops', async () => {
    const standby = await operator('replica-c');
    await new Promise((r) => setTimeout(r, 1500));
    expect([await leader.isLeader(), await standby.isLeader()]).toEqual([true, false]);
    const lease = JSON.parse(
      kubectlOk('get', 'lease', 'riskgate-operator', '-n', 'riskgate-system', '-o', 'json'),
    );
    expect(lease.spec.holderIdentity).toBe('replica-b');
    await stop(leader);
    expect(await eventually(() => standby.isLeader(), 15_000)).toBe(true);
    // the new leader keeps reconciling
    kubectlIn(policy('shop', '  mode: monitor\n'), 'apply', '-f', '-');
    expect(
      await eventually(
        () =>
          kubectlOk(
            'get',
            'configmap',
            'riskgate-shop',
            '-n',
            NS,
            '-o',
            'jsonpath={.data.policy\\.yaml}',
          ).includes('mode: monitor'),
        20_000,
      ),
    ).toBe(true);
  });
});
