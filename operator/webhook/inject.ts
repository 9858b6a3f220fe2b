/**
 * Sidecar injection, as a pure function from a pod to the injected pod.
 *
 * The enforcer is a native sidecar (an init container with restartPolicy: Always), so it starts
 * before the app and stops after it. It takes over the pod's Service-facing port without
 * iptables or NET_ADMIN: Services should target the app's port by name (targetPort: http); the
 * injector moves that name to the enforcer's port 15080 and renames the app's port
 * `<name>-app`, so the Service now delivers to the enforcer, which forwards to the app on
 * localhost. The NetworkPolicy the operator keeps admits traffic to the pod only on 15080 and
 * 15090, so the app's own port cannot be reached from outside the pod.
 */
import type { V1Container, V1ContainerPort, V1Pod } from '@kubernetes/client-node';
import {
  ADMIN_PORT,
  configMapName,
  ENV,
  heapCeilingMiB,
  POLICY_MOUNT,
  POW_KEY_FILE,
  POW_KEY_MOUNT,
  SIDECAR_NAME,
  TRAFFIC_PORT,
} from '../../contract/sidecar.ts';

export { ADMIN_PORT, configMapName, SIDECAR_NAME, TRAFFIC_PORT };
export const INJECT_LABEL = 'riskgate.dev/inject';
export const APP_PORT_ANNOTATION = 'riskgate.dev/app-port';
export const INJECTED_ANNOTATION = 'riskgate.dev/injected';
export const POLICY_ANNOTATION = 'riskgate.dev/policy';

export interface InjectionSettings {
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  /** Redis for shared state; the password comes from a Secret, never the pod spec. */
  redis?: { url: string; passwordSecret?: { name: string; key: string } };
  /** Secret with the proof-of-work key shared by a service's enforcers. */
  powKeySecret?: string;
}

export class InjectionError extends Error {
  readonly code = 'RG_ERR_INJECTION';
}

/** The app's port: the annotation, else the first declared port of the first app container. */
export function appPortOf(pod: V1Pod): {
  port: number;
  container: V1Container;
  declared: V1ContainerPort | undefined;
} {
  const containers = pod.spec?.containers ?? [];
  const annotated = pod.metadata?.annotations?.[APP_PORT_ANNOTATION];
  if (annotated !== undefined) {
    const port = Number(annotated);
    if (!Number.isInteger(port) || port < 1 || port > 65535 || port === TRAFFIC_PORT || port === ADMIN_PORT) {
      throw new InjectionError(`${APP_PORT_ANNOTATION}: ${JSON.stringify(annotated)} is not a usable port`);
    }
    for (const c of containers) {
      const declared = c.ports?.find((p) => p.containerPort === port);
      if (declared) return { port, container: c, declared };
    }
    return { port, container: containers[0]!, declared: undefined };
  }
  for (const c of containers) {
    const declared = c.ports?.find((p) => (p.protocol ?? 'TCP') === 'TCP');
    if (declared) return { port: declared.containerPort, container: c, declared };
  }
  throw new InjectionError(`no TCP container port to protect: declare one or set ${APP_PORT_ANNOTATION}`);
}

export function isInjected(pod: V1Pod): boolean {
  return (
    pod.metadata?.annotations?.[INJECTED_ANNOTATION] === 'true' ||
    (pod.spec?.initContainers ?? []).some((c) => c.name === SIDECAR_NAME) ||
    (pod.spec?.containers ?? []).some((c) => c.name === SIDECAR_NAME)
  );
}

/** Returns the injected pod (a new object); an already injected pod comes back unchanged. */
export function inject(pod: V1Pod, policyName: string, settings: InjectionSettings): V1Pod {
  if (isInjected(pod)) return pod;
  const out: V1Pod = structuredClone(pod);
  const spec = out.spec!;
  const { port, container, declared } = appPortOf(out);

  // Take over the Service-facing port name.
  const appContainer = spec.containers.find((c) => c.name === container.name)!;
  const serviceName = declared?.name;
  if (declared && serviceName) {
    const p = appContainer.ports!.find((x) => x.containerPort === port)!;
    p.name = `${serviceName}-app`.slice(0, 15);
  }

  const args = [
    'enforce',
    '--policy',
    POLICY_MOUNT,
    '--upstream',
    `http://127.0.0.1:${port}`,
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
    if (settings.redis.passwordSecret) {
      env.push({ name: ENV.redisPassword, valueFrom: { secretKeyRef: settings.redis.passwordSecret } });
    }
  }
  const volumeMounts = [{ name: 'riskgate-policy', mountPath: POLICY_MOUNT, readOnly: true }];
  if (settings.powKeySecret) {
    env.push({ name: ENV.powKeyFile, value: POW_KEY_FILE });
    volumeMounts.push({ name: 'riskgate-pow', mountPath: POW_KEY_MOUNT, readOnly: true });
  }

  const sidecar: V1Container = {
    name: SIDECAR_NAME,
    image: settings.image,
    imagePullPolicy: settings.imagePullPolicy ?? 'IfNotPresent',
    args,
    restartPolicy: 'Always',
    ports: [
      { name: serviceName ?? 'riskgate', containerPort: TRAFFIC_PORT, protocol: 'TCP' },
      { name: 'riskgate-admin', containerPort: ADMIN_PORT, protocol: 'TCP' },
    ],
    env,
    resources: settings.resources,
    volumeMounts,
    startupProbe: { httpGet: { path: '/readyz', port: ADMIN_PORT }, periodSeconds: 1, failureThreshold: 60 },
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
  spec.volumes = [
    ...(spec.volumes ?? []),
    { name: 'riskgate-policy', configMap: { name: configMapName(policyName) } },
    ...(settings.powKeySecret
      ? [{ name: 'riskgate-pow', secret: { secretName: settings.powKeySecret } }]
      : []),
  ];
  out.metadata ??= {};
  out.metadata.annotations = {
    ...(out.metadata.annotations ?? {}),
    [INJECTED_ANNOTATION]: 'true',
    [POLICY_ANNOTATION]: policyName,
  };
  return out;
}

/** RFC 6902 operations turning `before` into `after` at the top-level fields injection touches. */
export function injectionPatch(
  before: V1Pod,
  after: V1Pod,
): { op: 'add' | 'replace'; path: string; value: unknown }[] {
  const ops: { op: 'add' | 'replace'; path: string; value: unknown }[] = [];
  const put = (path: string, had: unknown, value: unknown) =>
    ops.push({ op: had === undefined ? 'add' : 'replace', path, value });
  if (before.metadata?.annotations === undefined)
    put('/metadata/annotations', undefined, after.metadata!.annotations);
  else put('/metadata/annotations', before.metadata.annotations, after.metadata!.annotations);
  put('/spec/containers', before.spec!.containers, after.spec!.containers);
  put('/spec/initContainers', before.spec!.initContainers, after.spec!.initContainers);
  put('/spec/volumes', before.spec!.volumes, after.spec!.volumes);
  return ops;
}
