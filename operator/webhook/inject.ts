/**
 * Sidecar injection, as a pure function from a pod to the injected pod and the warnings the
 * apiserver shows its author.
 *
 * The enforcer is a native sidecar (an init container with restartPolicy: Always), so it starts
 * before the app and stops after it. It takes over the pod's Service-facing port without
 * iptables or NET_ADMIN: Services target the app's port by name (targetPort: http); the
 * injector moves that name to the enforcer's port 15080 and gives the app's port a name of its
 * own (`rg-app-<port>`), so the Service now delivers to the enforcer, which forwards to the app
 * on localhost. The app's probes and lifecycle hooks that named the moved port are rewritten to
 * its number (the kubelet resolves a name only inside its own container). The pod is labelled
 * as protected by the policy: the NetworkPolicy the operator keeps selects those pods alone,
 * never a pod that has no enforcer in front of its port.
 */
import type {
  V1Container,
  V1ContainerPort,
  V1Pod,
  V1Probe,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import {
  ADMIN_PORT,
  configMapName,
  ENV,
  heapCeilingMiB,
  POLICY_MOUNT,
  POW_KEY_FILE,
  POW_KEY_MOUNT,
  REDIS_AUTH_KEY,
  REDIS_AUTH_SECRET,
  SECRETS_DIR,
  SIDECAR_NAME,
  TRAFFIC_PORT,
  type UpstreamProtocol,
} from '../../contract/sidecar.ts';

export { ADMIN_PORT, configMapName, SIDECAR_NAME, TRAFFIC_PORT };
export const INJECT_LABEL = 'riskgate.dev/inject';
/** Set by the injector: the policy whose enforcer fronts the pod. The NetworkPolicy selects on it. */
export const PROTECTED_LABEL = 'riskgate.dev/protected-by';
export const APP_PORT_ANNOTATION = 'riskgate.dev/app-port';
/** What the app speaks on that port, when its name does not say: `http1`, `h2c` or `grpc`. */
export const APP_PROTOCOL_ANNOTATION = 'riskgate.dev/app-protocol';
export const INJECTED_ANNOTATION = 'riskgate.dev/injected';
export const POLICY_ANNOTATION = 'riskgate.dev/policy';
const ADMIN_PORT_NAME = 'riskgate-admin';

export interface InjectionSettings {
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  /**
   * Redis for shared state. With `authenticated`, the password comes from the Secret the operator
   * keeps in the pod's namespace (REDIS_AUTH_SECRET), never the pod spec.
   */
  redis?: { url: string; authenticated?: boolean };
  /** Secret with the proof-of-work key shared by a service's enforcers. */
  powKeySecret?: string;
}

/** What the injector needs to know of the policy that selects the pod. */
export interface InjectedPolicy {
  name: string;
  /** Secrets the policy reads from files (authentication.apiKeys.secretRef): mounted for the enforcer. */
  secrets: readonly { name: string; key: string }[];
}

export interface Injected {
  pod: V1Pod;
  /** For the pod's author, in the apiserver's answer: how the port was chosen, what was changed. */
  warnings: string[];
}

export class InjectionError extends Error {
  readonly code = 'RG_ERR_INJECTION';
  /** For metrics: bad-annotation, no-port. */
  readonly reason: string;
  constructor(reason: 'bad-annotation' | 'no-port', message: string) {
    super(message);
    this.reason = reason;
  }
}

/** Port names that are not what a Service sends users to. */
const NOT_TRAFFIC = /(metric|admin|health|probe|debug|prom|manage|status|pprof|jmx)/;
/** Port names that are. */
const TRAFFIC = /^(https?|web|grpc|h2c|api)(-|$)|http/;

interface AppPort {
  port: number;
  container: V1Container;
  declared: V1ContainerPort | undefined;
  /** How it was chosen, when not by annotation or an unmistakable name. */
  warning?: string;
}

/**
 * The app's port: the annotation (a number or a port name); else a TCP port whose name says it
 * serves traffic (`http`, `http-*`, `web`, `grpc`, `h2c`, `api`); else the first TCP port whose
 * name does not say it is for metrics, admin or health — with a warning that says so.
 */
export function appPortOf(pod: V1Pod): AppPort {
  const containers = pod.spec?.containers ?? [];
  const tcp = containers.flatMap((c) =>
    (c.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP').map((p) => ({ c, p })),
  );
  const annotated = pod.metadata?.annotations?.[APP_PORT_ANNOTATION];
  if (annotated !== undefined) {
    const byName = tcp.find(({ p }) => p.name === annotated);
    if (byName) return { port: byName.p.containerPort, container: byName.c, declared: byName.p };
    const port = Number(annotated);
    if (!Number.isInteger(port) || port < 1 || port > 65535 || port === TRAFFIC_PORT || port === ADMIN_PORT) {
      throw new InjectionError(
        'bad-annotation',
        `${APP_PORT_ANNOTATION}: ${JSON.stringify(annotated)} is not a usable port or port name`,
      );
    }
    const declared = tcp.find(({ p }) => p.containerPort === port);
    if (declared) return { port, container: declared.c, declared: declared.p };
    return { port, container: containers[0]!, declared: undefined };
  }
  const named = tcp.find(
    ({ p }) => p.name !== undefined && TRAFFIC.test(p.name) && !NOT_TRAFFIC.test(p.name),
  );
  if (named) return { port: named.p.containerPort, container: named.c, declared: named.p };
  const first = tcp.find(({ p }) => p.name === undefined || !NOT_TRAFFIC.test(p.name));
  if (!first)
    throw new InjectionError(
      'no-port',
      `no TCP container port to protect: declare one or set ${APP_PORT_ANNOTATION}`,
    );
  const others = tcp.filter((x) => x !== first).map(({ p }) => p.name ?? String(p.containerPort));
  return {
    port: first.p.containerPort,
    container: first.c,
    declared: first.p,
    ...(others.length > 0
      ? {
          warning: `riskgate: protecting port ${first.p.name ?? first.p.containerPort} of container ${first.c.name}, the first declared; set ${APP_PORT_ANNOTATION} to choose another (${others.join(', ')})`,
        }
      : {}),
  };
}

/** Port names that say the app speaks HTTP/2 in cleartext (Istio's and Kubernetes' conventions). */
const HTTP2_NAME = /^(grpc|h2c|http2)(-|$)/;

/**
 * What the app speaks on its port: the annotation (`http1`; `h2c`, `grpc`, `kubernetes.io/h2c`
 * for HTTP/2 with prior knowledge); else the port's name (`grpc`, `grpc-*`, `h2c`, `http2` …);
 * else HTTP/1.1. A container port has no `appProtocol` (a Service port does, and the webhook sees
 * only the Pod): name the port or annotate the pod.
 */
export function appProtocolOf(pod: V1Pod, declared: V1ContainerPort | undefined): UpstreamProtocol {
  const annotated = pod.metadata?.annotations?.[APP_PROTOCOL_ANNOTATION];
  if (annotated !== undefined) {
    const value = annotated.trim().toLowerCase();
    if (value === 'http1' || value === 'http' || value === 'http/1.1') return 'http1';
    if (value === 'h2c' || value === 'grpc' || value === 'kubernetes.io/h2c') return 'h2c';
    throw new InjectionError(
      'bad-annotation',
      `${APP_PROTOCOL_ANNOTATION}: ${JSON.stringify(annotated)} is not http1, h2c or grpc`,
    );
  }
  return declared?.name !== undefined && HTTP2_NAME.test(declared.name) ? 'h2c' : 'http1';
}

export function isInjected(pod: V1Pod): boolean {
  return (
    pod.metadata?.annotations?.[INJECTED_ANNOTATION] === 'true' ||
    (pod.spec?.initContainers ?? []).some((c) => c.name === SIDECAR_NAME) ||
    (pod.spec?.containers ?? []).some((c) => c.name === SIDECAR_NAME)
  );
}

/** A port name the pod does not use yet: IANA_SVC_NAME, at most 15 characters. */
function freshPortName(pod: V1Pod, port: number): string {
  const taken = new Set(
    [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].flatMap((c) =>
      (c.ports ?? []).map((p) => p.name),
    ),
  );
  for (let i = 0; ; i++) {
    const name = i === 0 ? `rg-app-${port}` : `rg-app${i}-${port}`;
    if (!taken.has(name)) return name;
  }
}

/** A probe or hook action that named `name` now names the port by number. */
function renumber<T extends { httpGet?: { port: unknown }; tcpSocket?: { port: unknown } } | undefined>(
  action: T,
  name: string,
  port: number,
): boolean {
  let changed = false;
  for (const target of [action?.httpGet, action?.tcpSocket]) {
    if (target && target.port === name) {
      target.port = port;
      changed = true;
    }
  }
  return changed;
}

/** A label value for the policy's name (at most 63 characters). */
export function protectedLabelValue(policy: string): string {
  return policy.length <= 63 ? policy : policy.slice(0, 63).replace(/[-.]+$/, '');
}

/** Returns the injected pod (a new object); an already injected pod comes back unchanged. */
export function inject(pod: V1Pod, policy: InjectedPolicy, settings: InjectionSettings): Injected {
  if (isInjected(pod)) return { pod, warnings: [] };
  const out: V1Pod = structuredClone(pod);
  const spec = out.spec!;
  const warnings: string[] = [];
  const chosen = appPortOf(out);
  if (chosen.warning) warnings.push(chosen.warning);
  const { port, declared } = chosen;
  const protocol = appProtocolOf(out, declared);
  const app = spec.containers.find((c) => c.name === chosen.container.name)!;

  // Take over the Service-facing port name; the app's port gets a fresh one.
  const serviceName = declared?.name;
  if (declared && serviceName) {
    const own = app.ports!.find((p) => p.containerPort === port && p.name === serviceName)!;
    own.name = freshPortName(pod, port);
    const rewritten: string[] = [];
    for (const [what, probe] of [
      ['livenessProbe', app.livenessProbe],
      ['readinessProbe', app.readinessProbe],
      ['startupProbe', app.startupProbe],
    ] as [string, V1Probe | undefined][]) {
      if (renumber(probe, serviceName, port)) rewritten.push(what);
    }
    for (const [what, hook] of [
      ['postStart', app.lifecycle?.postStart],
      ['preStop', app.lifecycle?.preStop],
    ] as const) {
      if (renumber(hook, serviceName, port)) rewritten.push(what);
    }
    if (rewritten.length > 0) {
      warnings.push(
        `riskgate: port name ${serviceName} now fronts the enforcer; ${rewritten.join(', ')} of ${app.name} use port ${port}`,
      );
    }
  }
  const portName = serviceName ?? 'riskgate';

  const args = [
    'enforce',
    '--policy',
    POLICY_MOUNT,
    '--upstream',
    `http://127.0.0.1:${port}`,
    ...(protocol === 'h2c' ? ['--upstream-protocol', 'h2c'] : []),
    '--listen',
    `0.0.0.0:${TRAFFIC_PORT}`,
    '--admin',
    `0.0.0.0:${ADMIN_PORT}`,
    '--log-allow-sample',
    '0.01',
  ];
  const env: V1Container['env'] = [
    { name: ENV.podName, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: ENV.podNamespace, valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
  ];
  const heap = heapCeilingMiB(settings.resources.limits['memory']);
  if (heap !== undefined) env.push({ name: 'NODE_OPTIONS', value: `--max-old-space-size=${heap}` });
  if (settings.redis) {
    args.push('--redis', settings.redis.url);
    if (settings.redis.authenticated) {
      // Optional: without it the enforcer starts, and decides from local state (Redis refuses it).
      env.push({
        name: ENV.redisPassword,
        valueFrom: { secretKeyRef: { name: REDIS_AUTH_SECRET, key: REDIS_AUTH_KEY, optional: true } },
      });
    }
  }
  const volumeMounts: V1VolumeMount[] = [
    { name: 'riskgate-policy', mountPath: POLICY_MOUNT, readOnly: true },
  ];
  const volumes: V1Volume[] = [{ name: 'riskgate-policy', configMap: { name: configMapName(policy.name) } }];
  if (settings.powKeySecret) {
    env.push({ name: ENV.powKeyFile, value: POW_KEY_FILE });
    volumeMounts.push({ name: 'riskgate-pow', mountPath: POW_KEY_MOUNT, readOnly: true });
    // Optional: without the shared key an enforcer makes its own (cli/enforce.ts).
    volumes.push({ name: 'riskgate-pow', secret: { secretName: settings.powKeySecret, optional: true } });
  }
  // Secrets the policy reads from files, where the enforcer looks for them: <dir>/<name>/<key>.
  const secretNames = [...new Set(policy.secrets.map((s) => s.name))].sort();
  for (const [i, name] of secretNames.entries()) {
    const volume = `riskgate-secret-${i}`;
    volumeMounts.push({ name: volume, mountPath: `${SECRETS_DIR}/${name}`, readOnly: true });
    // Optional: a Secret not there yet must not keep the pod from starting; the enforcer refuses
    // what needs it and says so (/readyz problems).
    volumes.push({ name: volume, secret: { secretName: name, optional: true } });
  }

  const sidecar: V1Container = {
    name: SIDECAR_NAME,
    image: settings.image,
    imagePullPolicy: settings.imagePullPolicy ?? 'IfNotPresent',
    args,
    restartPolicy: 'Always',
    ports: [
      { name: portName, containerPort: TRAFFIC_PORT, protocol: 'TCP' },
      { name: ADMIN_PORT_NAME, containerPort: ADMIN_PORT, protocol: 'TCP' },
    ],
    env,
    resources: settings.resources,
    volumeMounts,
    // Started once the policy is loaded and the ports listen (/healthz); ready is /readyz, which a
    // required feed may hold back — without restarting the enforcer or holding the app's start.
    startupProbe: { httpGet: { path: '/healthz', port: ADMIN_PORT }, periodSeconds: 1, failureThreshold: 60 },
    readinessProbe: { httpGet: { path: '/readyz', port: ADMIN_PORT }, periodSeconds: 5 },
    livenessProbe: { httpGet: { path: '/healthz', port: ADMIN_PORT }, periodSeconds: 10 },
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
  spec.initContainers = [sidecar, ...(spec.initContainers ?? [])];
  spec.volumes = [...(spec.volumes ?? []), ...volumes];
  out.metadata ??= {};
  out.metadata.annotations = {
    ...(out.metadata.annotations ?? {}),
    [INJECTED_ANNOTATION]: 'true',
    [POLICY_ANNOTATION]: policy.name,
  };
  out.metadata.labels = {
    ...(out.metadata.labels ?? {}),
    [PROTECTED_LABEL]: protectedLabelValue(policy.name),
  };
  return { pod: out, warnings };
}

/** RFC 6902 operations turning `before` into `after` at the top-level fields injection touches. */
export function injectionPatch(
  before: V1Pod,
  after: V1Pod,
): { op: 'add' | 'replace'; path: string; value: unknown }[] {
  const ops: { op: 'add' | 'replace'; path: string; value: unknown }[] = [];
  const put = (path: string, had: unknown, value: unknown) =>
    ops.push({ op: had === undefined ? 'add' : 'replace', path, value });
  put('/metadata/annotations', before.metadata?.annotations, after.metadata!.annotations);
  put('/metadata/labels', before.metadata?.labels, after.metadata!.labels);
  put('/spec/containers', before.spec!.containers, after.spec!.containers);
  put('/spec/initContainers', before.spec!.initContainers, after.spec!.initContainers);
  put('/spec/volumes', before.spec!.volumes, after.spec!.volumes);
  return ops;
}
