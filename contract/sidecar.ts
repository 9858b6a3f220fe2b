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

/** Environment the injector sets and the enforcer reads. */
export const ENV = {
  podName: 'POD_NAME',
  podNamespace: 'POD_NAMESPACE',
  redisPassword: 'REDIS_PASSWORD',
  powKeyFile: 'RISKGATE_POW_KEY_FILE',
  logLevel: 'RISKGATE_LOG_LEVEL',
} as const;

/** The ConfigMap holding a policy's compiled config. */
export function configMapName(policy: string): string {
  return `riskgate-${policy}`;
}
