/**
 * The injected enforcer as the operator builds it and as it finds itself at start: ports,
 * mounted paths, environment. Changing one side without the other breaks every injected pod.
 */

export const SIDECAR_NAME = 'riskgate-enforcer';
export const TRAFFIC_PORT = 15080;
export const ADMIN_PORT = 15090;

/** The policy ConfigMap's mount, and the file name in it. */
export const POLICY_MOUNT = '/etc/riskgate/policy';
export const POLICY_FILE = 'policy.yaml';
/** Where Secrets a policy references are mounted: <dir>/<secret name>/<key>. */
export const SECRETS_DIR = '/var/run/riskgate/secrets';
/** The proof-of-work key Secret's mount, and the key file in it. */
export const POW_KEY_MOUNT = '/etc/riskgate/pow';
export const POW_KEY_FILE = `${POW_KEY_MOUNT}/key`;

/**
 * What the app speaks on its port, as the injector tells the enforcer (`--upstream-protocol`):
 * HTTP/1.1 (WebSocket included), or HTTP/2 in cleartext with prior knowledge (gRPC, h2c).
 */
export const UPSTREAM_PROTOCOLS = ['http1', 'h2c'] as const;
export type UpstreamProtocol = (typeof UPSTREAM_PROTOCOLS)[number];

/** Environment the injector sets and the enforcer reads. */
export const ENV = {
  podName: 'POD_NAME',
  podNamespace: 'POD_NAMESPACE',
  redisPassword: 'REDIS_PASSWORD',
  powKeyFile: 'RISKGATE_POW_KEY_FILE',
  logLevel: 'RISKGATE_LOG_LEVEL',
} as const;

/**
 * The Secret the operator keeps in each namespace with policies, holding the Redis password the
 * enforcers there authenticate with (a pod reads Secrets of its own namespace only).
 */
export const REDIS_AUTH_SECRET = 'riskgate-redis-auth';
export const REDIS_AUTH_KEY = 'password';

/** The ConfigMap holding a policy's compiled config. */
export function configMapName(policy: string): string {
  return `riskgate-${policy}`;
}

/**
 * The V8 heap ceiling for a sidecar with this memory limit (a Kubernetes quantity such as
 * `384Mi`): 60 % of it, in MiB, leaving the rest to code, native buffers and sockets. V8 sizes its
 * heap from the machine's memory otherwise and, on a large node, lets garbage pile up past the
 * container's limit before it collects — the kernel's OOM killer would see it first. Undefined
 * when there is no limit.
 */
export function heapCeilingMiB(memoryLimit: string | undefined): number | undefined {
  if (memoryLimit === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(memoryLimit.trim());
  if (!m) return undefined;
  const unit: Record<string, number> = {
    Ki: 1 / 1024,
    Mi: 1,
    Gi: 1024,
    K: 1000 / 1048576,
    M: 1e6 / 1048576,
    G: 1e9 / 1048576,
  };
  const mib = Number(m[1]) * (m[2] ? unit[m[2]]! : 1 / 1048576);
  return Math.max(64, Math.floor(mib * 0.6));
}
