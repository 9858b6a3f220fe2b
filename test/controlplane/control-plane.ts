/**
 * A real Kubernetes control plane for tests, started the way envtest does it: etcd and
 * kube-apiserver (built by `make tools`) on free loopback ports, with generated certificates,
 * service-account signing keys and RBAC authorization, and a kubeconfig for an admin client.
 * No kubelet: pods are stored, never run.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent, request } from 'undici';
import { freePort } from '../support/free-port.ts';

export interface ControlPlane {
  dir: string;
  kubeconfig: string;
  apiserverUrl: string;
  /** Folder with kubectl, helm, etcd, kube-apiserver. */
  bin: string;
  pids: number[];
  stop(): Promise<void>;
  /** Restarts kube-apiserver alone (etcd keeps the data). */
  restartApiserver(): Promise<void>;
  /** Stops kube-apiserver alone, until startApiserver(). */
  stopApiserver(): Promise<void>;
  /** Starts the stopped kube-apiserver again and waits until it is ready. */
  startApiserver(): Promise<void>;
}

const ROOT = resolve(import.meta.dirname, '../..');

/** Builds the tools if needed and returns their folder (the script's last line). */
export function toolsBin(): string {
  if (process.env['RISKGATE_TOOLS_BIN']) return process.env['RISKGATE_TOOLS_BIN'];
  const out = execFileSync(join(ROOT, 'test/controlplane/tools/build-tools.sh'), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return out.trim().split('\n').pop()!;
}

function openssl(args: string[], cwd: string) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** CA, apiserver serving certificate, admin client certificate, service-account keys. */
function generateCertificates(dir: string) {
  const days = ['-days', '2'];
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-subj',
      '/CN=riskgate-test-ca',
      ...days,
    ],
    dir,
  );
  writeFileSync(
    join(dir, 'serving.ext'),
    'subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n',
  );
  openssl(
    [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'apiserver.key',
      '-out',
      'apiserver.csr',
      '-subj',
      '/CN=kube-apiserver',
    ],
    dir,
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'apiserver.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'apiserver.crt',
      '-extfile',
      'serving.ext',
      ...days,
    ],
    dir,
  );
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  openssl(
    [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'admin.key',
      '-out',
      'admin.csr',
      '-subj',
      '/O=system:masters/CN=riskgate-test-admin',
    ],
    dir,
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'admin.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'admin.crt',
      '-extfile',
      'client.ext',
      ...days,
    ],
    dir,
  );
  openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
  openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
}

function writeKubeconfig(dir: string, url: string): string {
  const b64 = (f: string) => readFileSync(join(dir, f)).toString('base64');
  const path = join(dir, 'kubeconfig');
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: ${url}
    certificate-authority-data: ${b64('ca.crt')}
users:
- name: admin
  user:
    client-certificate-data: ${b64('admin.crt')}
    client-key-data: ${b64('admin.key')}
contexts:
- name: test
  context: {cluster: test, user: admin, namespace: default}
current-context: test
`,
  );
  return path;
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string, logFile: string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n') : '';
  throw new Error(`${what} did not become ready in ${timeoutMs} ms\n${tail}`);
}

export interface StartOptions {
  /** Keep processes running after this process exits (make controlplane-up). */
  detached?: boolean;
  dir?: string;
}

export async function startControlPlane(options: StartOptions = {}): Promise<ControlPlane> {
  const bin = toolsBin();
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'riskgate-controlplane-'));
  mkdirSync(dir, { recursive: true });
  generateCertificates(dir);
  const [etcdPort, etcdPeerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const children: ChildProcess[] = [];

  const launch = (name: string, args: string[]) => {
    const log = openSync(join(dir, `${name}.log`), 'a');
    const child = spawn(join(bin, name), args, {
      stdio: ['ignore', log, log],
      detached: options.detached ?? false,
    });
    closeSync(log);
    if (options.detached) child.unref();
    children.push(child);
    return child;
  };

  const killAll = () => {
    for (const c of children) if (c.exitCode === null && c.pid) c.kill('SIGKILL');
  };
  if (!options.detached) process.once('exit', killAll);
  // A start that fails half-way (an apiserver that never gets ready on a starved machine) must
  // not leave etcd running behind it for the rest of the test run.
  const abandon = (err: unknown): never => {
    killAll();
    process.off('exit', killAll);
    if (!options.dir) rmSync(dir, { recursive: true, force: true });
    throw err;
  };

  launch('etcd', [
    '--data-dir',
    join(dir, 'etcd'),
    '--listen-client-urls',
    `http://127.0.0.1:${etcdPort}`,
    '--advertise-client-urls',
    `http://127.0.0.1:${etcdPort}`,
    '--listen-peer-urls',
    `http://127.0.0.1:${etcdPeerPort}`,
    '--initial-advertise-peer-urls',
    `http://127.0.0.1:${etcdPeerPort}`,
    '--initial-cluster',
    `default=http://127.0.0.1:${etcdPeerPort}`,
    '--unsafe-no-fsync',
    '--log-level',
    'warn',
  ]);
  await waitUntil(
    async () => (await request(`http://127.0.0.1:${etcdPort}/health`)).statusCode === 200,
    30_000,
    'etcd',
    join(dir, 'etcd.log'),
  ).catch(abandon);

  const apiserverArgs = [
    `--etcd-servers=http://127.0.0.1:${etcdPort}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${apiPort}`,
    `--cert-dir=${dir}`,
    `--tls-cert-file=${join(dir, 'apiserver.crt')}`,
    `--tls-private-key-file=${join(dir, 'apiserver.key')}`,
    `--client-ca-file=${join(dir, 'ca.crt')}`,
    `--service-account-key-file=${join(dir, 'sa.pub')}`,
    `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    '--service-account-issuer=https://kubernetes.default.svc',
    '--service-cluster-ip-range=10.0.0.0/24',
    '--authorization-mode=RBAC',
    '--allow-privileged=true',
    // No controller-manager creates default service accounts here.
    '--disable-admission-plugins=ServiceAccount',
    '--enable-priority-and-fairness=false',
    '--v=1',
  ];
  let apiserver = launch('kube-apiserver', apiserverArgs);
  const apiserverUrl = `https://127.0.0.1:${apiPort}`;
  const agent = new Agent({
    connect: {
      ca: readFileSync(join(dir, 'ca.crt')),
      cert: readFileSync(join(dir, 'admin.crt')),
      key: readFileSync(join(dir, 'admin.key')),
    },
  });
  const ready = () =>
    waitUntil(
      async () => {
        const res = await request(`${apiserverUrl}/readyz`, { dispatcher: agent });
        await res.body.dump();
        return res.statusCode === 200;
      },
      90_000,
      'kube-apiserver',
      join(dir, 'kube-apiserver.log'),
    );
  await ready().catch(async (err: unknown) => {
    await agent.close();
    abandon(err);
  });
  const kubeconfig = writeKubeconfig(dir, apiserverUrl);

  const plane: ControlPlane = {
    dir,
    kubeconfig,
    apiserverUrl,
    bin,
    pids: children.map((c) => c.pid!).filter(Boolean),
    async stop() {
      await agent.close();
      for (const c of [...children].reverse()) {
        if (c.exitCode !== null) continue;
        c.kill('SIGTERM');
        await Promise.race([new Promise((r) => c.once('exit', r)), new Promise((r) => setTimeout(r, 5000))]);
        if (c.exitCode === null) c.kill('SIGKILL');
      }
      process.off('exit', killAll);
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
    async stopApiserver() {
      if (apiserver.exitCode !== null) return;
      apiserver.kill('SIGTERM');
      await new Promise((r) => apiserver.once('exit', r));
    },
    async startApiserver() {
      apiserver = launch('kube-apiserver', apiserverArgs);
      await ready();
    },
    async restartApiserver() {
      await plane.stopApiserver();
      await plane.startApiserver();
    },
  };
  return plane;
}
