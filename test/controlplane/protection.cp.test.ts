/**
 * The operator must never cut off, stall or silently leave unprotected the pods it guards. On a
 * real kube-apiserver + etcd with a real Redis and the operator as a process, pods go through
 * the real admission chain and the injected enforcer is started by the pod runner from the real
 * ConfigMap and Secrets: inject → start → serve → edit → up to date, and each way a cluster
 * could be harmed, tried.
 */
import { createHash } from 'node:crypto';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { configChannel } from '../../contract/config-message.ts';
import { policyScope } from '../../contract/redis-keys.ts';
import { loadOrCreateCertificate } from '../../operator/webhook/certificate-secret.ts';
import { caBundleOf } from '../../operator/webhook/certificates.ts';
import { checkDocBlock } from '../support/doc-block.ts';
import { freePort } from '../support/free-port.ts';
import { type RecordingUpstream, startRecordingUpstream } from '../support/recording-upstream.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { eventually } from '../support/temp-policy.ts';
import { kubectl, kubectlIn, kubectlOk } from './kubectl.ts';
import { type OperatorProcess, spawnOperator } from './operator-process.ts';
import { type RunningPod, runPod, targetContainer } from './pod-runner.ts';

const NS = 'pets';
const PLAIN_NS = 'pets-plain';

// Redis requires a password, as the chart's does; the operator reads it from its namespace and
// copies it to each namespace with policies, where the injected enforcer reads it.
const REDIS_PASSWORD = 'c0rrect-h0rse-battery';
let redis: RedisServer & { destroy?: () => Promise<void> };
let operator: OperatorProcess;
const pods: RunningPod[] = [];
const apps: RecordingUpstream[] = [];

const apply = (yaml: string) => kubectlIn(yaml, 'apply', '-f', '-');
const applyOk = (yaml: string) => {
  const r = apply(yaml);
  if (r.status !== 0) throw new Error(r.stderr);
  return r;
};

interface Status {
  metadata: { generation: number };
  status?: {
    observedGeneration?: number;
    configHash?: string;
    conditions?: { type: string; status: string; reason: string; message: string }[];
    enforcers?: { selected: number; upToDate: number; unprotected: number };
  };
}
const rpol = (name: string, ns = NS) =>
  JSON.parse(kubectlOk('get', 'rpol', name, '-n', ns, '-o', 'json')) as Status;
const condition = (name: string, type: string, ns = NS) =>
  rpol(name, ns).status?.conditions?.find((c) => c.type === type);
const reasons = (name: string, ns = NS) =>
  (
    JSON.parse(
      kubectlOk('get', 'events', '-n', ns, '--field-selector', `involvedObject.name=${name}`, '-o', 'json'),
    ).items as { reason: string; message: string }[]
  ).map((e) => e.reason);

const policy = (name: string, body: string, ns = NS) => `apiVersion: riskgate.dev/v1alpha1
kind: RiskPolicy
metadata: {name: ${name}, namespace: ${ns}}
spec:
${body}`;

const pod = (name: string, labels: string, containers: string, ns = NS, extra = '') => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}, labels: ${labels}${extra}}
spec:
  containers:
${containers}`;

beforeAll(async () => {
  redis = await startRedisServer({ password: REDIS_PASSWORD });
  kubectlOk('apply', '--server-side', '--force-conflicts', '-f', 'crds/');
  kubectlOk('wait', '--for=condition=Established', 'crd/riskpolicies.riskgate.dev', '--timeout=60s');
  applyOk(
    `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${NS}, labels: {riskgate.dev/inject: enabled}}\n`,
  );
  applyOk(`apiVersion: v1\nkind: Namespace\nmetadata: {name: ${PLAIN_NS}}\n`);
  applyOk('apiVersion: v1\nkind: Namespace\nmetadata: {name: riskgate-system}\n');
  applyOk(`apiVersion: v1
kind: Secret
metadata: {name: riskgate-redis-password, namespace: riskgate-system}
stringData: {password: ${REDIS_PASSWORD}}
`);
  operator = await spawnOperator(inject('kubeconfig'), [
    '--identity',
    'protection',
    '--failure-policy',
    'Fail',
    '--image',
    'registry.example/riskgate:test',
    '--redis',
    redis.url,
    '--redis-password-secret',
    'riskgate-redis-password:password',
  ]);
  expect(
    await eventually(async () => {
      const res = await request(`${operator.admin}/readyz`).catch(() => undefined);
      if (!res) return false;
      return ((await res.body.json()) as { leader: boolean }).leader;
    }, 30_000),
    operator.output(),
  ).toBe(true);
  // The webhook is registered once leading.
  expect(
    await eventually(
      () => kubectl('get', 'mutatingwebhookconfiguration', 'riskgate-injector').status === 0,
      20_000,
    ),
    operator.output(),
  ).toBe(true);
});

afterAll(async () => {
  for (const p of pods) await p.stop();
  for (const a of apps) await a.close();
  operator?.child.kill('SIGKILL');
  await redis?.destroy?.();
  // Its webhook answered at a URL of a process now gone; other files install the chart's.
  kubectl('delete', 'mutatingwebhookconfiguration', 'riskgate-injector', '--ignore-not-found');
});

describe('a protected pod, end to end', () => {
  let running: RunningPod;
  let app: RecordingUpstream;
  const key = 'pk_partner_7f3a';

  it('is injected through the admission chain and its Service port reaches the enforcer, not the app', async () => {
    applyOk(
      policy(
        'store',
        `  selector: {matchLabels: {app: store}}
  clientIdentity: {trustedProxies: [127.0.0.0/8]}
  authentication:
    apiKeys: {secretRef: {name: store-api-keys}}
  routes:
    - {name: partner, methods: [GET], path: /partner/*, sensitivity: high, authentication: required}
`,
      ),
    );
    expect(await eventually(() => condition('store', 'Ready')?.status === 'True', 20_000)).toBe(true);
    const appPort = await freePort();
    app = await startRecordingUpstream('127.0.0.1', appPort);
    apps.push(app);
    const created = apply(
      pod(
        'store-1',
        '{app: store}',
        `    - name: app
      image: registry.example/store:1
      ports: [{name: http, containerPort: ${appPort}}]
      readinessProbe: {httpGet: {path: /healthz, port: http}}
`,
      ),
    );
    expect(created.status).toBe(0);
    // Said at admission: the app's probe named the port the enforcer now holds.
    expect(created.stderr).toContain(`readinessProbe of app use port ${appPort}`);
    applyOk(
      `apiVersion: v1\nkind: Service\nmetadata: {name: store, namespace: ${NS}}\nspec:\n  selector: {app: store}\n  ports: [{port: 80, targetPort: http}]\n`,
    );
    const stored = JSON.parse(kubectlOk('get', 'pod', 'store-1', '-n', NS, '-o', 'json'));
    expect(targetContainer(stored, 'http')).toBe('riskgate-enforcer');
    expect(stored.spec.containers[0].readinessProbe.httpGet.port).toBe(appPort);
    expect(stored.metadata.labels['riskgate.dev/protected-by']).toBe('store');
  });

  it('starts from the real ConfigMap while the API-key Secret does not exist yet, and serves', async () => {
    running = await runPod(NS, 'store-1');
    pods.push(running);
    expect(await running.ready()).toBe(true);
    const through = await request(`${running.url('http')}/products`);
    expect(through.statusCode).toBe(200);
    await through.body.dump();
    expect(app.requests.map((r) => r.url)).toEqual(['/products']);
    // Fail closed where a key is needed, until there are keys.
    const keyed = await request(`${running.url('http')}/partner/orders`, { headers: { 'x-api-key': key } });
    await keyed.body.dump();
    expect(keyed.statusCode).toBe(401);
    // Reported through Redis, which it could only reach with the password the operator copied.
    expect(await eventually(() => rpol('store').status?.enforcers?.upToDate === 1, 20_000)).toBe(true);
    const copy = JSON.parse(kubectlOk('get', 'secret', 'riskgate-redis-auth', '-n', NS, '-o', 'json'));
    expect(Buffer.from(copy.data.password, 'base64').toString()).toBe(REDIS_PASSWORD);
    const env = running.pod.spec!.initContainers![0]!.env!.find((e) => e.name === 'REDIS_PASSWORD');
    expect(env?.valueFrom?.secretKeyRef).toEqual({
      name: 'riskgate-redis-auth',
      key: 'password',
      optional: true,
    });
  });

  it('takes the Secret when it is created, without a restart', async () => {
    applyOk(`apiVersion: v1
kind: Secret
metadata: {name: store-api-keys, namespace: ${NS}}
stringData:
  keys: "partner:${createHash('sha256').update(key).digest('hex')}"
`);
    expect(
      await eventually(async () => {
        const res = await request(`${running.url('http')}/partner/orders`, { headers: { 'x-api-key': key } });
        await res.body.dump();
        return res.statusCode === 200;
      }, 20_000),
    ).toBe(true);
  });

  it('runs an edit of the RiskPolicy at once, and its status says every enforcer is up to date', async () => {
    const before = rpol('store').status!.configHash;
    kubectlOk('patch', 'rpol', 'store', '-n', NS, '--type', 'merge', '-p', '{"spec":{"mode":"monitor"}}');
    expect(await eventually(() => rpol('store').status?.configHash !== before, 20_000)).toBe(true);
    const after = rpol('store').status!.configHash!;
    const config = async () => {
      const res = await request(`${running.url('riskgate-admin')}/config`);
      return (await res.body.json()) as { mode: string; hash: string };
    };
    expect(await eventually(async () => (await config()).hash === after, 20_000)).toBe(true);
    expect((await config()).mode).toBe('monitor');
    expect(
      await eventually(() => {
        const s = rpol('store');
        return s.status?.enforcers?.upToDate === 1 && s.status.observedGeneration === s.metadata.generation;
      }, 20_000),
    ).toBe(true);
    expect(reasons('store').filter((r) => r === 'ConfigApplied')).toHaveLength(2);
  });

  it('does not let anyone who reaches Redis switch it to another config', async () => {
    // Even with the password.
    const publisher = new Redis(redis.url, { password: REDIS_PASSWORD });
    try {
      await publisher.publish(
        configChannel(policyScope(NS, 'store')),
        policy('store', '  selector: {matchLabels: {app: store}}\n  mode: enforce\n'),
      );
    } finally {
      publisher.disconnect();
    }
    await new Promise((r) => setTimeout(r, 500));
    const res = await request(`${running.url('riskgate-admin')}/config`);
    expect(((await res.body.json()) as { mode: string }).mode).toBe('monitor');
  });
});

describe('what must not harm a pod', () => {
  it('leaves a pod created before its policy reachable, and reports it unprotected', async () => {
    applyOk(
      pod(
        'legacy-1',
        '{app: legacy}',
        '    - {name: app, image: registry.example/legacy:1, ports: [{containerPort: 8080}]}\n',
      ),
    );
    applyOk(policy('legacy', '  selector: {matchLabels: {app: legacy}}\n'));
    expect(await eventually(() => rpol('legacy').status?.enforcers?.unprotected === 1, 20_000)).toBe(true);
    expect(rpol('legacy').status?.enforcers?.selected).toBe(1);
    const np = JSON.parse(kubectlOk('get', 'networkpolicy', 'riskgate-legacy', '-n', NS, '-o', 'json'));
    const labels = JSON.parse(kubectlOk('get', 'pod', 'legacy-1', '-n', NS, '-o', 'json')).metadata.labels;
    // The NetworkPolicy's selector does not match the pod: its port 8080 stays open to its clients.
    for (const [k, v] of Object.entries(np.spec.podSelector.matchLabels as Record<string, string>)) {
      expect(labels[k]).not.toBe(v);
    }
    expect(await eventually(() => reasons('legacy').includes('PodsUnprotected'), 10_000)).toBe(true);
    expect(
      await operator.metric('riskgate_operator_unprotected_pods', 'namespace="pets",policy="legacy"'),
    ).toBe(1);
  });

  it('reports a selected pod in a namespace that did not opt in as unprotected, and creates it as it is', async () => {
    applyOk(policy('plain', '  selector: {matchLabels: {app: plain}}\n', PLAIN_NS));
    const created = apply(
      pod('plain-1', '{app: plain}', '    - {name: app, image: registry.example/plain:1}\n', PLAIN_NS),
    );
    expect(created.status).toBe(0);
    expect(
      JSON.parse(kubectlOk('get', 'pod', 'plain-1', '-n', PLAIN_NS, '-o', 'json')).spec.initContainers,
    ).toBe(undefined);
    expect(await eventually(() => rpol('plain', PLAIN_NS).status?.enforcers?.unprotected === 1, 20_000)).toBe(
      true,
    );
  });

  it('admits pods whose port names would not survive a suffix, and keeps every name valid and unique', async () => {
    applyOk(policy('names', '  selector: {matchLabels: {app: names}}\n'));
    expect(await eventually(() => condition('names', 'Ready')?.status === 'True', 20_000)).toBe(true);
    for (const [i, portName] of ['webserver-http', 'webserver-https', 'http'].entries()) {
      const created = apply(
        pod(
          `names-${i}`,
          '{app: names}',
          `    - name: app
      image: registry.example/names:1
      ports: [{name: metrics, containerPort: 9090}, {name: ${portName}, containerPort: 8080}]
      livenessProbe: {httpGet: {path: /live, port: ${portName}}}
      lifecycle: {preStop: {httpGet: {path: /drain, port: ${portName}}}}
`,
        ),
      );
      expect(created.stderr).not.toContain('Error');
      expect(created.status).toBe(0);
      const stored = JSON.parse(kubectlOk('get', 'pod', `names-${i}`, '-n', NS, '-o', 'json'));
      // The Service's name for the port now leads to the enforcer; metrics stay the app's.
      expect(targetContainer(stored, portName)).toBe('riskgate-enforcer');
      expect(targetContainer(stored, 'metrics')).toBe('app');
      const all = [...stored.spec.initContainers, ...stored.spec.containers].flatMap(
        (c: { ports?: { name?: string }[] }) => (c.ports ?? []).map((p) => p.name),
      );
      expect(new Set(all).size).toBe(all.length);
      expect(stored.spec.containers[0].livenessProbe.httpGet.port).toBe(8080);
      expect(stored.spec.containers[0].lifecycle.preStop.httpGet.port).toBe(8080);
    }
  });

  it('resolves overlapping policies by age, says so on both, and injects the older one', async () => {
    applyOk(policy('web-first', '  selector: {matchLabels: {tier: web}}\n'));
    expect(await eventually(() => condition('web-first', 'Ready')?.status === 'True', 20_000)).toBe(true);
    // Created later (creationTimestamp counts whole seconds), and first by name: neither may
    // take the pods over.
    await new Promise((r) => setTimeout(r, 1100));
    applyOk(policy('aaa-later', '  selector: {matchLabels: {app: shopfront}}\n'));
    expect(await eventually(() => condition('aaa-later', 'Ready')?.status === 'True', 20_000)).toBe(true);
    applyOk(
      pod(
        'shopfront-1',
        '{app: shopfront, tier: web}',
        '    - {name: app, image: registry.example/shop:1, ports: [{name: http, containerPort: 8080}]}\n',
      ),
    );
    const stored = JSON.parse(kubectlOk('get', 'pod', 'shopfront-1', '-n', NS, '-o', 'json'));
    expect(stored.metadata.annotations['riskgate.dev/policy']).toBe('web-first');
    expect(await eventually(() => condition('aaa-later', 'Conflict')?.status === 'True', 20_000)).toBe(true);
    expect(condition('aaa-later', 'Conflict')?.message).toBe(
      'shopfront-1 enforced by web-first, the older policy; this policy does not apply to them',
    );
    expect(await eventually(() => condition('web-first', 'Conflict')?.status === 'True', 20_000)).toBe(true);
    expect(condition('web-first', 'Conflict')?.message).toContain('this policy enforces on them');
    expect(await eventually(() => reasons('aaa-later').includes('SelectorOverlap'), 10_000)).toBe(true);
  });

  it('starts a pod whose policy names a feed no one can reach, and says the feed is not ready', async () => {
    applyOk(
      policy(
        'offline',
        `  selector: {matchLabels: {app: offline}}
  clientIdentity: {trustedProxies: [127.0.0.0/8]}
  signals:
    ipReputation:
      feeds:
        - {name: blocklist, url: "https://feeds.riskgate.invalid/list.txt"}
`,
      ),
    );
    expect(await eventually(() => condition('offline', 'FeedsReady')?.status === 'False', 30_000)).toBe(true);
    expect(condition('offline', 'FeedsReady')?.reason).toBe('FetchFailed');
    expect(condition('offline', 'Ready')?.status).toBe('True');
    const appPort = await freePort();
    const app = await startRecordingUpstream('127.0.0.1', appPort);
    apps.push(app);
    applyOk(
      pod(
        'offline-1',
        '{app: offline}',
        `    - {name: app, image: registry.example/offline:1, ports: [{name: http, containerPort: ${appPort}}]}\n`,
      ),
    );
    const running = await runPod(NS, 'offline-1');
    pods.push(running);
    expect(await running.ready()).toBe(true);
    const res = await request(`${running.url('http')}/`);
    await res.body.dump();
    expect(res.statusCode).toBe(200);
    const readyz = await request(`${running.url('riskgate-admin')}/readyz`);
    expect(((await readyz.body.json()) as { staleFeeds: string[] }).staleFeeds).toEqual(['blocklist']);
    expect(reasons('offline')).toContain('FeedFetchFailed');
  });

  it('renews the shared webhook certificate a month before its end, trusting the old CA beside the new', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(inject('kubeconfig'));
    const core = kc.makeApiClient(CoreV1Api);
    const dns = ['riskgate-webhook.riskgate-system.svc'];
    const first = await loadOrCreateCertificate(core, 'riskgate-system', 'rotation-test-tls', dns);
    // Another replica reads the same one.
    expect((await loadOrCreateCertificate(core, 'riskgate-system', 'rotation-test-tls', dns)).certPem).toBe(
      first.certPem,
    );
    // Three weeks before its end (as seen by a replica whose clock says so): renewed in place.
    const later = first.notAfter.getTime() - 21 * 86_400_000;
    const renewed = await loadOrCreateCertificate(core, 'riskgate-system', 'rotation-test-tls', dns, later);
    expect(renewed.certPem).not.toBe(first.certPem);
    expect(renewed.previousCaPem).toBe(first.caPem);
    expect(caBundleOf(renewed)).toBe(`${renewed.caPem}${first.caPem}`);
    // The other replicas follow the Secret.
    expect((await loadOrCreateCertificate(core, 'riskgate-system', 'rotation-test-tls', dns)).certPem).toBe(
      renewed.certPem,
    );
  });

  it('leaves an unchanged RiskPolicy unchanged when it is applied again', () => {
    const text = policy(
      'again',
      `  selector: {matchLabels: {app: again}}
  routes:
    - {name: login, methods: [POST], path: /login, sensitivity: high, role: login}
    - {name: orders, methods: [GET], path: /orders/*}
  signals:
    ipReputation:
      feeds:
        - {name: local, url: "https://feeds.example/list.txt"}
`,
    );
    expect(apply(text).stdout).toContain('created');
    expect(apply(text).stdout).toContain('unchanged');
  });

  it('shows a person running it what happened, in kubectl get -o wide and describe', () => {
    // What changes from run to run becomes a placeholder: ages, times, hashes, uids, versions.
    const stable = (text: string) =>
      text
        .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, '<uid>')
        .replace(/\b[0-9a-f]{16}\b/g, '<hash>')
        .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/g, '<time>')
        .replace(/(Resource Version:\s+)\d+/g, '$1<version>');
    /** A kubectl table with its Age column made a placeholder and its columns re-aligned. */
    const table = (lines: string[], indent: string) => {
      const header = lines[0]!;
      const starts = [...header.matchAll(/\S+/g)].map((m) => m.index!);
      const rows = lines.map((line) =>
        starts.map((at, i) => line.slice(at, i + 1 < starts.length ? starts[i + 1] : undefined).trim()),
      );
      const age = rows[0]!.findIndex((h) => h.toUpperCase() === 'AGE');
      for (const row of rows.slice(1)) if (age >= 0 && row[age] !== '----') row[age] = '<age>';
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      return rows.map(
        (r) =>
          `${indent}${r
            .map((v, i) => v.padEnd(widths[i]! + 3))
            .join('')
            .trimEnd()}`,
      );
    };
    const wide =
      table(
        stable(kubectlOk('get', 'rpol', '-n', NS, '-o', 'wide', '--sort-by=.metadata.name'))
          .trimEnd()
          .split('\n'),
        '',
      ).join('\n') + '\n';
    expect(wide.split('\n')[0]).toMatch(
      /^NAME\s+MODE\s+READY\s+SELECTED\s+UP-TO-DATE\s+UNPROTECTED\s+AGE\s+REASON\s+CONFLICT\s+FEEDS\s+CONFIG$/,
    );
    checkDocBlock(
      'docs/operator.md',
      'get-wide',
      `\n\`\`\`console\n$ kubectl get rpol -n ${NS} -o wide\n${wide}\`\`\`\n`,
      'UPDATE_OPERATOR_DOC',
    );
    const [spec, events] = stable(kubectlOk('describe', 'rpol', 'aaa-later', '-n', NS)).split('Events:\n');
    // Events of the same second come in either order: sorted by reason.
    const [head, rule, ...rows] = table(events!.trimEnd().split('\n'), '  ');
    const described = `${spec}Events:\n${[head, rule, ...rows.sort((a, b) => a.localeCompare(b))].join('\n')}\n`;
    expect(described).toContain('SelectorOverlap');
    checkDocBlock(
      'docs/operator.md',
      'describe',
      `\n\`\`\`console\n$ kubectl describe rpol aaa-later -n ${NS}\n${described}\`\`\`\n`,
      'UPDATE_OPERATOR_DOC',
    );
  });
});
