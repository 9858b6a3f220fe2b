/**
 * In a cluster, every replica must serve the webhook with a certificate the registered CA bundle
 * trusts: one Secret in the operator's namespace holds it (kube/owned-secret.ts). A certificate
 * within `renewBefore` of its end is replaced, so a restart or a periodic check renews it.
 */
import type { CoreV1Api, V1OwnerReference } from '@kubernetes/client-node';
import { loadOrCreateSecret } from '../kube/owned-secret.ts';
import { generateServingCertificate, type ServingCertificate } from './certificates.ts';

/** Renew a month before the end: many restarts and checks fall in that window. */
export const RENEW_BEFORE_MS = 30 * 24 * 3600_000;

export async function loadOrCreateCertificate(
  core: CoreV1Api,
  namespace: string,
  name: string,
  dnsNames: string[],
  now = Date.now(),
  owner?: V1OwnerReference,
): Promise<ServingCertificate> {
  const data = await loadOrCreateSecret(
    core,
    { namespace, name, type: 'kubernetes.io/tls', owner },
    (d) =>
      Boolean(d['ca.crt'] && d['tls.crt'] && d['tls.key']) &&
      new Date(d['not-after'] ?? 0).getTime() - now > RENEW_BEFORE_MS,
    async (previous) => {
      const cert = await generateServingCertificate(dnsNames, []);
      return {
        'ca.crt': cert.caPem,
        'tls.crt': cert.certPem,
        'tls.key': cert.keyPem,
        'not-after': cert.notAfter.toISOString(),
        ...(previous?.['ca.crt'] ? { 'previous-ca.crt': previous['ca.crt'] } : {}),
      };
    },
  );
  return {
    caPem: data['ca.crt']!,
    certPem: data['tls.crt']!,
    keyPem: data['tls.key']!,
    notAfter: new Date(data['not-after']!),
    ...(data['previous-ca.crt'] ? { previousCaPem: data['previous-ca.crt'] } : {}),
  };
}
