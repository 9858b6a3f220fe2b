/**
 * Plays the kubelet's part for one Pod, without a container runtime: it reads the Pod as the
 * apiserver stored it (after admission, so with the injected enforcer), materialises the
 * ConfigMap and Secret volumes the enforcer mounts into a folder — refusing to start, as the
 * kubelet would, while a volume that is not optional is missing — resolves its environment, and
 * runs the enforcer's container command as a process of this checkout (`bin/riskgate`), with its
 * probes. It runs processes, not containers: no image, no isolation, no network namespace.
 *
 * Paths and ports the container spec names are remapped, since every "pod" here shares one
 * machine: each mount path moves under the pod's folder, and the enforcer's container ports
 * (traffic, admin) become free loopback ports. The app container is the caller's: a test server
 * listening on the port the app container declares (choose a free one when creating the Pod).
 * Volumes are kept in sync while the pod runs, as the kubelet syncs ConfigMap volumes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import { request } from 'undici';
import { SECRETS_DIR, SIDECAR_NAME } from '../../contract/sidecar.ts';
import { freePort } from '../support/free-port.ts';
import { kubectl } from './kubectl.ts';

export interface RunningPod {
  pod: V1Pod;
  /** The enforcer's container ports, by number and by name, as loopback URLs. */
  url: (port: number | string) => string;
  /** Whether the enforcer's readiness probe passes now. */
  ready: () => Promise<boolean>;
  /** Output of the enforcer process so far. */
  logs: () => string;
  /** Re-reads the volumes from the apiserver, as the kubelet's periodic sync does. */
  syncVolumes: () => void;
  stop: () => Promise<void>;
}

export class PodNotStartable extends Error {}

const get = (kind: string, name: string, namespace: string) => {
  const r = kubectl('get', kind, name, '-n', namespace, '-o', 'json');
  return r.status === 0 ? (JSON.parse(r.stdout) as { data?: Record<string, string> }) : undefined;
};

/** Writes a volume's files into `dir`; false when it is missing and not optional. */
function materialise(volume: V1Volume, namespace: string, dir: string): boolean {
  mkdirSync(dir, { recursive: true });
  let files: Record<string, string> | undefined;
  let optional = false;
  if (volume.configMap) {
    optional = volume.configMap.optional === true;
    files = get('configmap', volume.configMap.name!, namespace)?.data ?? undefined;
  } else if (volume.secret) {
    optional = volume.secret.optional === true;
    const data = get('secret', volume.secret.secretName!, namespace)?.data;
    files = data
      ? Object.fromEntries(
          Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
        )
      : undefined;
  } else {
    return true; // emptyDir and the like: an empty folder
  }
  if (!files) return optional;
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return true;
}

function envOf(container: V1Container, pod: V1Pod): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    const field = e.valueFrom?.fieldRef?.fieldPath;
    if (field === 'metadata.name') env[e.name] = pod.metadata!.name!;
    if (field === 'metadata.namespace') env[e.name] = pod.metadata!.namespace!;
    const ref = e.valueFrom?.secretKeyRef;
    if (ref) {
      const data = get('secret', ref.name!, pod.metadata!.namespace!)?.data?.[ref.key];
      if (data !== undefined) env[e.name] = Buffer.from(data, 'base64').toString('utf8');
      else if (!ref.optional) throw new PodNotStartable(`secret ${ref.name} key ${ref.key} not found`);
    }
  }
  return env;
}

export async function runPod(namespace: string, name: string): Promise<RunningPod> {
  const pod = JSON.parse(
    (() => {
      const r = kubectl('get', 'pod', name, '-n', namespace, '-o', 'json');
      if (r.status !== 0) throw new Error(`pod ${namespace}/${name}: ${r.stderr}`);
      return r.stdout;
    })(),
  ) as V1Pod;
  const sidecar = pod.spec?.initContainers?.find((c) => c.name === SIDECAR_NAME);
  if (!sidecar) throw new PodNotStartable(`pod ${namespace}/${name} has no ${SIDECAR_NAME} container`);

  const root = mkdtempSync(join(tmpdir(), `pod-${name}-`));
  const at = (path: string) => join(root, path);
  const volumes = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
  const syncVolumes = () => {
    for (const m of sidecar.volumeMounts ?? []) {
      const v = volumes.get(m.name);
      if (!v) throw new PodNotStartable(`volume ${m.name} is not declared`);
      if (!materialise(v, namespace, at(m.mountPath))) {
        throw new PodNotStartable(`volume ${m.name}: ${v.configMap?.name ?? v.secret?.secretName} not found`);
      }
    }
  };
  syncVolumes();

  // Container ports → free loopback ports; arguments and env that name a mount path follow it.
  const ports = new Map<number, number>();
  const named = new Map<string, number>();
  for (const p of sidecar.ports ?? []) {
    const local = await freePort();
    ports.set(p.containerPort, local);
    if (p.name) named.set(p.name, local);
  }
  const mounts = (sidecar.volumeMounts ?? []).map((m) => m.mountPath);
  const remapPath = (value: string) => {
    const mount = mounts.find((m) => value === m || value.startsWith(`${m}/`));
    return mount ? at(value) : value;
  };
  const args = (sidecar.args ?? []).map((a, i, all) => {
    const flag = all[i - 1];
    if (flag === '--listen' || flag === '--admin') {
      const port = Number(a.split(':').pop());
      return `127.0.0.1:${ports.get(port) ?? port}`;
    }
    return remapPath(a);
  });
  args.push('--secrets-dir', at(SECRETS_DIR));
  const env = Object.fromEntries(Object.entries(envOf(sidecar, pod)).map(([k, v]) => [k, remapPath(v)]));

  const child: ChildProcess = spawn(join(process.cwd(), 'bin', 'riskgate'), args, {
    env: { PATH: process.env['PATH'] ?? '', ...env, RISKGATE_LOG_LEVEL: env['RISKGATE_LOG_LEVEL'] ?? 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // The kubelet's volume sync, every second here (a minute or so in a cluster).
  const syncer = setInterval(() => {
    try {
      syncVolumes();
    } catch {}
  }, 1000);
  syncer.unref();

  const probe = async (p: V1Container['readinessProbe']) => {
    const http = p?.httpGet;
    if (!http) return true;
    const port = typeof http.port === 'number' ? ports.get(http.port) : named.get(String(http.port));
    try {
      const res = await request(`http://127.0.0.1:${port}${http.path ?? '/'}`, { headersTimeout: 1000 });
      await res.body.dump();
      return res.statusCode >= 200 && res.statusCode < 400;
    } catch {
      return false;
    }
  };
  const running: RunningPod = {
    pod,
    url: (port) => {
      const local = typeof port === 'number' ? ports.get(port) : named.get(port);
      if (local === undefined) throw new Error(`the enforcer declares no port ${port}`);
      return `http://127.0.0.1:${local}`;
    },
    ready: () => probe(sidecar.readinessProbe),
    logs: () => output,
    syncVolumes,
    stop: async () => {
      clearInterval(syncer);
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(root, { recursive: true, force: true });
    },
  };

  // The startup probe, as the kubelet runs it: until it passes or its failures run out.
  const startup = sidecar.startupProbe;
  const limit = (startup?.failureThreshold ?? 3) * (startup?.periodSeconds ?? 10) * 1000;
  const deadline = Date.now() + Math.min(limit, 30_000);
  while (!(await probe(startup))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await running.stop();
      throw new PodNotStartable(`enforcer did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return running;
}

/** The port a Service's targetPort reaches in this pod: the container port of that name or number. */
export function targetContainer(pod: V1Pod, targetPort: number | string): string | undefined {
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    if (
      c.ports?.some((p) =>
        typeof targetPort === 'number' ? p.containerPort === targetPort : p.name === targetPort,
      )
    )
      return c.name;
  }
  return undefined;
}
