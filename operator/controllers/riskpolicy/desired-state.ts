/**
 * What a RiskPolicy should produce, computed without touching the cluster: the validated
 * policy and its hash, the ConfigMap the enforcers mount, and the NetworkPolicy that keeps the
 * app's own port out of reach.
 */
import type { V1ConfigMap, V1NetworkPolicy } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { API_VERSION, KIND, type RiskPolicy, riskPolicy } from '../../../api/riskpolicy.ts';
import { formatIssues } from '../../../api/validate.ts';
import { ISSUED_AT_FILE, SIGNER_KEY_FILE } from '../../../contract/config-message.ts';
import { policyHash } from '../../../contract/policy-hash.ts';
import { ADMIN_PORT, configMapName, POLICY_FILE, TRAFFIC_PORT } from '../../../contract/sidecar.ts';
import { type InjectedPolicy, PROTECTED_LABEL, protectedLabelValue } from '../../webhook/inject.ts';

export const POLICY_LABEL = 'riskgate.dev/policy';
export { ISSUED_AT_FILE, POLICY_FILE, SIGNER_KEY_FILE };

export interface RiskPolicyObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    creationTimestamp?: Date;
  };
  spec?: unknown;
  status?: Record<string, unknown>;
}

export type Validated =
  | { ok: true; policy: RiskPolicy; hash: string; warnings: string[] }
  | { ok: false; reason: string; message: string };

// Informers hand out a new object for every change, so the object itself is the cache key:
// admission and conflict checks ask about the same policies over and over.
const validatedOnce = new WeakMap<RiskPolicyObject, Validated>();

/** The same zod schema as everywhere, plus what only matters inside a cluster. */
export function validateForCluster(obj: RiskPolicyObject): Validated {
  let v = validatedOnce.get(obj);
  if (!v) {
    v = validate(obj);
    validatedOnce.set(obj, v);
  }
  return v;
}

function validate(obj: RiskPolicyObject): Validated {
  const parsed = riskPolicy.safeParse({
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace },
    spec: obj.spec,
  });
  if (!parsed.success)
    return { ok: false, reason: 'InvalidSpec', message: formatIssues(parsed.error.issues) };
  const policy = parsed.data;
  for (const [i, jwt] of policy.spec.authentication.jwt.entries()) {
    if (jwt.keysFile) {
      return {
        ok: false,
        reason: 'InvalidSpec',
        message: `spec.authentication.jwt[${i}].keysFile: files are for standalone enforcers; in a cluster use keys or jwksUri`,
      };
    }
  }
  // A file feed only exists next to a standalone enforcer: in a cluster it is left out, and
  // the status says so, rather than sidecars that cannot start.
  const warnings: string[] = [];
  const reputation = policy.spec.signals.ipReputation;
  if (reputation) {
    const skipped = reputation.feeds.filter((f) => f.file !== undefined);
    for (const f of skipped)
      warnings.push(`feed ${f.name}: file feeds are for standalone enforcers and were left out; use url`);
    if (skipped.length > 0) reputation.feeds = reputation.feeds.filter((f) => f.file === undefined);
  }
  return { ok: true, policy, hash: policyHash(policy), warnings };
}

function owner(obj: RiskPolicyObject) {
  return obj.metadata.uid
    ? [
        {
          apiVersion: API_VERSION,
          kind: KIND,
          name: obj.metadata.name,
          uid: obj.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]
    : undefined;
}

/**
 * The ConfigMap the enforcers mount: the compiled policy, the public key that verifies configs
 * pushed on the config channel, and when this config was issued (a pushed config must be newer).
 */
export function desiredConfigMap(
  obj: RiskPolicyObject,
  v: Extract<Validated, { ok: true }>,
  signerPublicKeyPem: string,
  issuedAt: number,
): V1ConfigMap {
  const document = { apiVersion: API_VERSION, kind: KIND, metadata: v.policy.metadata, spec: v.policy.spec };
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: configMapName(obj.metadata.name),
      namespace: obj.metadata.namespace,
      labels: { [POLICY_LABEL]: obj.metadata.name, 'app.kubernetes.io/managed-by': 'riskgate-operator' },
      annotations: { 'riskgate.dev/config-hash': v.hash },
      ...(owner(obj) ? { ownerReferences: owner(obj) } : {}),
    },
    data: {
      [POLICY_FILE]: `# Compiled by the riskgate operator from RiskPolicy ${obj.metadata.namespace}/${obj.metadata.name}.\n${stringify(document, { version: '1.1' })}`,
      [SIGNER_KEY_FILE]: signerPublicKeyPem,
      [ISSUED_AT_FILE]: String(issuedAt),
    },
  };
}

/** What the injector needs of a valid policy: its name and the Secrets its enforcer must read. */
export function injectedPolicyOf(policy: RiskPolicy): InjectedPolicy {
  const ref = policy.spec.authentication.apiKeys?.secretRef;
  return { name: policy.metadata.name, secrets: ref ? [ref] : [] };
}

export function desiredNetworkPolicy(obj: RiskPolicyObject, policy: RiskPolicy): V1NetworkPolicy {
  const np = policy.spec.networkPolicy;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: configMapName(obj.metadata.name),
      namespace: obj.metadata.namespace,
      labels: { [POLICY_LABEL]: obj.metadata.name, 'app.kubernetes.io/managed-by': 'riskgate-operator' },
      ...(owner(obj) ? { ownerReferences: owner(obj) } : {}),
    },
    spec: {
      // Only pods the injector put an enforcer in front of: a pod without one (created before
      // the policy, in a namespace not opted in, admitted while the webhook was down) keeps
      // every port it had.
      podSelector: { matchLabels: { [PROTECTED_LABEL]: protectedLabelValue(obj.metadata.name) } },
      policyTypes: ['Ingress'],
      // Only the enforcer's ports admit traffic from outside the pod; the app's port is
      // reachable from the enforcer alone, over localhost, which NetworkPolicy does not filter.
      // Who may reach them is the policy's to say (networkPolicy.from, adminFrom): a pod's other
      // NetworkPolicies add to these, so anything left open here is open.
      ingress: [
        { ports: [{ protocol: 'TCP', port: TRAFFIC_PORT }], ...(np.from ? { from: np.from } : {}) },
        { ports: [{ protocol: 'TCP', port: ADMIN_PORT }], ...(np.adminFrom ? { from: np.adminFrom } : {}) },
      ],
    },
  };
}
