/**
 * In a cluster, every replica must serve the webhook with a certificate the registered CA
 * bundle trusts: the first replica generates it and stores it in a Secret in the operator's
 * namespace; the others load it. A replica that loses the creation race reads the winner's.
 */
import type { CoreV1Api } from '@kubernetes/client-node';
import { generateServingCertificate, type ServingCertificate } from './certificates.ts';

const decode = (v: string | undefined) => Buffer.from(v ?? '', 'base64').toString('utf8');

export async function loadOrCreateCertificate(
  core: CoreV1Api,
  namespace: string,
  name: string,
  dnsNames: string[],
): Promise<ServingCertificate> {
  const read = async (): Promise<ServingCertificate | undefined> => {
    try {
      const s = await core.readNamespacedSecret({ name, namespace });
      const d = s.data ?? {};
      if (!d['ca.crt'] || !d['tls.crt'] || !d['tls.key']) return undefined;
      return {
        caPem: decode(d['ca.crt']),
        certPem: decode(d['tls.crt']),
        keyPem: decode(d['tls.key']),
        notAfter: new Date(decode(d['not-after'])),
      };
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  };
  const existing = await read();
  if (existing) return existing;
  const cert = await generateServingCertificate(dnsNames, []);
  const b64 = (v: string) => Buffer.from(v).toString('base64');
  try {
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'riskgate-operator' } },
        type: 'kubernetes.io/tls',
        data: {
          'ca.crt': b64(cert.caPem),
          'tls.crt': b64(cert.certPem),
          'tls.key': b64(cert.keyPem),
          'not-after': b64(cert.notAfter.toISOString()),
        },
      },
    });
    return cert;
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
    const winner = await read();
    if (!winner) throw err;
    return winner;
  }
}
