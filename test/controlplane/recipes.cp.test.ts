/**
 * Every command block of README.md, charts/riskgate/README.md, the chart's NOTES.txt and
 * docs/gitops.md, run as written — through bash, with the real kubectl and helm on PATH and the
 * test control plane as the current cluster — in the order a reader would. A block a test here
 * does not run fails the test, unless it is listed with the test that covers it instead.
 *
 * Two things stand in for what this machine cannot reach, and are named: a Node HTTP server
 * plays "your app" on 127.0.0.1:8080, and the raw.githubusercontent.com URL of the quickstart in
 * NOTES.txt is read from this checkout. Argo CD itself is not installed: its Application CRD
 * is a stand-in that accepts any spec, and its Lua runtime is lua5.4.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type RecordingUpstream, startRecordingUpstream } from '../support/recording-upstream.ts';
import { eventually } from '../support/temp-policy.ts';
import { kubectl, kubectlIn, kubectlOk, tool } from './kubectl.ts';

interface Block {
  lang: string;
  text: string;
}

function blocks(file: string): Block[] {
  const out: Block[] = [];
  for (const m of readFileSync(file, 'utf8').matchAll(/^```(\w*)\n([\s\S]*?)^```/gm)) {
    out.push({ lang: m[1]!, text: m[2]! });
  }
  return out;
}

/** Shell lines of a block: continuations joined, blank lines dropped. */
const commands = (text: string) =>
  text
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((l) => l.trim() !== '');

const env = () => ({
  ...process.env,
  PATH: `${inject('toolsBin')}:${join(process.cwd(), 'node_modules/.bin')}:${process.env['PATH']}`,
  KUBECONFIG: inject('kubeconfig'),
});

/** Without blocking this process: "your app" is served from it. */
function shAsync(line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', line], { env: env() });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`\`${line}\` exited ${code ?? signal}:\n${out}`));
    });
  });
}

function sh(line: string): { status: number; out: string } {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', line], {
    env: env(),
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/** Runs a line that must succeed; returns what it printed. */
function run(line: string): string {
  const r = sh(line);
  if (r.status !== 0) throw new Error(`\`${line}\` exited ${r.status}:\n${r.out}`);
  return r.out;
}

const background: ChildProcess[] = [];
let backgroundOutput = '';
/** A command that runs until stopped (a server): started, and left running until the test ends. */
function start(line: string): ChildProcess {
  const child = spawn('bash', ['-c', `exec ${line}`], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (c: Buffer) => {
    backgroundOutput = `${backgroundOutput}${c.toString()}`.slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  background.push(child);
  return child;
}

/** GET with short timeouts: a server that accepts and never answers must not hang the test. */
async function get(url: string): Promise<{ status: number; body: string }> {
  try {
    const r = await request(url, { headersTimeout: 2000, bodyTimeout: 2000 });
    return { status: r.statusCode, body: await r.body.text() };
  } catch {
    return { status: 0, body: '' };
  }
}

async function healthy(url: string, timeoutMs = 30_000) {
  return eventually(async () => (await get(url)).status === 200, timeoutMs);
}

/** Blocks run elsewhere, not here: the block's text, and which test runs it. */
const COVERED_ELSEWHERE = new Map([
  [
    'make demo    # a shop app behind the enforcer on examples/quickstart.yaml: 20 s of users and attacks\nmake test    # every test tier\n',
    '`make demo` by demo/run.test.ts (slow tier); `make test` is the run these tests are part of',
  ],
]);

let app: RecordingUpstream | undefined;

beforeAll(() => {
  // No release from another file: each recipe starts from a cluster without Riskgate.
  tool('helm', ['uninstall', 'riskgate', '--namespace', 'riskgate-system', '--ignore-not-found']);
  kubectl('delete', 'mutatingwebhookconfiguration', 'riskgate-injector', '--ignore-not-found');
  kubectl('delete', 'crd', 'riskpolicies.riskgate.dev', '--ignore-not-found');
});

afterAll(async () => {
  for (const c of background) c.kill('SIGTERM');
  await app?.close();
  spawnSync('make', ['-s', 'controlplane-down'], { env: env() });
});

describe('README.md', () => {
  const all = blocks('README.md').filter((b) => b.lang === 'sh');
  const find = (start: string) => {
    const b = all.find((x) => x.text.startsWith(start));
    if (!b) throw new Error(`README.md has no sh block starting ${start}`);
    return b;
  };

  it('has no command block that no test runs', () => {
    const ran = [
      'bin/riskgate enforce',
      'bin/riskgate validate',
      'helm install riskgate',
      'make controlplane-up',
    ];
    const unrun = all.filter(
      (b) => !COVERED_ELSEWHERE.has(b.text) && !ran.some((start) => b.text.startsWith(start)),
    );
    expect(unrun.map((b) => b.text)).toEqual([]);
  });

  it('runs the enforcer standalone, as written', async () => {
    // "Your app" on the port the recipe names.
    app = await startRecordingUpstream('127.0.0.1', 8080);
    const [enforce, ...rest] = commands(find('bin/riskgate enforce').text);
    start(enforce!);
    expect(await healthy('http://127.0.0.1:15090/healthz')).toBe(true);
    const outputs: string[] = [];
    for (const line of rest) outputs.push(await shAsync(line));
    // What each line's comment promises.
    expect(outputs[0]).toMatch(/HTTP\/1\.1 200[\s\S]*x-riskgate-/i);
    expect(outputs[1]).toMatch(/HTTP\/1\.1 403[\s\S]*application\/problem\+json/i);
    expect(outputs[2]).toContain('riskgate_decisions_total');
    expect(outputs[3]).toMatch(/decision\s+deny/);
  });

  it('validates the examples, as written', () => {
    const out = commands(find('bin/riskgate validate').text).map(run).join('');
    expect(out).not.toMatch(/error/i);
  });

  it('installs on Kubernetes, as written, into a namespace the webhook serves', () => {
    for (const line of commands(find('helm install riskgate').text)) run(line);
    expect(kubectlOk('get', 'rpol', 'quickstart', '-n', 'default')).toContain('quickstart');
    const webhook = JSON.parse(
      kubectlOk('get', 'mutatingwebhookconfiguration', 'riskgate-injector', '-o', 'json'),
    );
    const excluded = webhook.webhooks[0].namespaceSelector.matchExpressions.find(
      (e: { key: string }) => e.key === 'kubernetes.io/metadata.name',
    ).values;
    expect(excluded).not.toContain('default');
    run('helm uninstall riskgate --namespace riskgate-system');
    run('kubectl delete rpol quickstart -n default');
    run('kubectl label namespace default riskgate.dev/inject-');
  });

  it('runs the operator against its own control plane, as written', { timeout: 240_000 }, async () => {
    let operator: ChildProcess | undefined;
    const lines = commands(find('make controlplane-up').text);
    const [up, ...rest] = lines;
    const down = rest.pop()!;
    expect(down).toBe('make controlplane-down');
    await shAsync(up!);
    for (const line of rest) {
      if (line.startsWith('bin/riskgate operator')) {
        operator = start(line.replace(/\s+#.*$/, ''));
        expect(await healthy('http://127.0.0.1:15091/healthz', 60_000), backgroundOutput).toBe(true);
        // The operator leads, and its webhook does not exclude the quickstart's namespace.
        expect(
          await eventually(
            async () => (await get('http://127.0.0.1:15091/readyz')).body.includes('"leader":true'),
            30_000,
          ),
          backgroundOutput,
        ).toBe(true);
      } else {
        await shAsync(line);
      }
    }
    // "until Ctrl-C": the operator stops before its control plane does (in time, or it is killed).
    if (operator && operator.exitCode === null) {
      const exited = new Promise((r) => operator!.once('exit', r));
      operator.kill('SIGINT');
      const inTime = await Promise.race([
        exited.then(() => true),
        new Promise((r) => setTimeout(() => r(false), 30_000)),
      ]);
      if (!inTime) operator.kill('SIGKILL');
      expect(inTime, `the operator did not stop on Ctrl-C:\n${backgroundOutput}`).toBe(true);
    }
    await shAsync(down);
  });
});

describe('charts/riskgate/README.md and NOTES.txt', () => {
  it('installs the chart, as written, and prints NOTES whose commands run as written', () => {
    const all = blocks('charts/riskgate/README.md').filter((b) => b.lang === 'sh');
    expect(all).toHaveLength(1);
    let notes = '';
    for (const line of commands(all[0]!.text)) {
      const out = run(line);
      if (line.startsWith('helm install')) notes = out;
    }
    expect(kubectlOk('get', 'rpol', 'quickstart', '-n', 'shop')).toContain('quickstart');

    // NOTES.txt, as helm printed it, with its placeholders filled in as a reader would: the
    // namespace of the chart README, and an app there to restart.
    kubectlIn(
      `apiVersion: apps/v1
kind: Deployment
metadata: {name: shop, namespace: shop}
spec:
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec: {containers: [{name: app, image: registry.example/shop:1, ports: [{name: http, containerPort: 8080}]}]}
`,
      'apply',
      '-f',
      '-',
    );
    const noted = notes
      .split('\n')
      .map((l) => l.slice(l.indexOf('kubectl')))
      .filter((l) => l.startsWith('kubectl '));
    expect(noted).toHaveLength(4);
    for (const line of noted) {
      const filled = line
        .replaceAll('<ns>', 'shop')
        .replaceAll('<app>', 'shop')
        // This machine cannot reach GitHub: the same file from this checkout.
        .replace(
          'https://raw.githubusercontent.com/riskgate/riskgate/main/examples/quickstart.yaml',
          'examples/quickstart.yaml',
        );
      run(filled);
    }
    run('helm uninstall riskgate --namespace riskgate-system');
  });
});

describe('docs/gitops.md', () => {
  it('applies every manifest, and its argocd-cm health check is the tested Lua, working', () => {
    run('kubectl create namespace argocd');
    kubectlIn(
      `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: applications.argoproj.io}
spec:
  group: argoproj.io
  names: {kind: Application, plural: applications, listKind: ApplicationList, singular: application}
  scope: Namespaced
  versions:
    - {name: v1alpha1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
`,
      'apply',
      '-f',
      '-',
    );
    kubectlOk('wait', '--for=condition=Established', 'crd/applications.argoproj.io', '--timeout=60s');
    const all = blocks('docs/gitops.md');
    expect(all.map((b) => b.lang)).toEqual(['yaml', 'yaml', 'yaml']);
    for (const b of all) {
      const r = kubectlIn(b.text, 'apply', '-f', '-');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
    const cm = JSON.parse(kubectlOk('get', 'configmap', 'argocd-cm', '-n', 'argocd', '-o', 'json'));
    const lua = cm.data['resource.customizations.health.riskgate.dev_RiskPolicy'] as string;
    expect(lua).toBe(readFileSync('docs/gitops/riskpolicy-health.lua', 'utf8'));
    // Argo CD runs it as a function body over `obj`.
    const program = `local obj = {metadata = {generation = 2}, status = {observedGeneration = 2, conditions = {{type = "Ready", status = "True", message = "config published"}}}}\nlocal function check(obj)\n${lua}\nend\nlocal hs = check(obj)\nprint(hs.status)\n`;
    const r = spawnSync('lua5.4', ['-'], { input: program, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('Healthy');
  });
});
