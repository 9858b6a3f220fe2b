import { X509Certificate } from 'node:crypto';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { generateServingCertificate, needsRenewal } from './certificates.ts';

describe('webhook certificates', () => {
  it('serve TLS that a client trusting only the CA accepts, for the names given', async () => {
    const cert = await generateServingCertificate(['riskgate-webhook.riskgate-system.svc'], ['127.0.0.1']);
    const leaf = new X509Certificate(cert.certPem);
    expect(leaf.verify(new X509Certificate(cert.caPem).publicKey)).toBe(true);
    expect(leaf.subjectAltName).toContain('DNS:riskgate-webhook.riskgate-system.svc');
    expect(needsRenewal(cert)).toBe(false);
    expect(needsRenewal(cert, Date.now() + 300 * 86_400_000)).toBe(true);

    const server = createServer({ cert: cert.certPem, key: cert.keyPem }, (_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const res = await request(`https://127.0.0.1:${port}/`, {
        dispatcher: new Agent({ connect: { ca: cert.caPem } }),
      });
      expect(await res.body.text()).toBe('ok');
      await expect(request(`https://127.0.0.1:${port}/`)).rejects.toThrow();
    } finally {
      server.close();
    }
  });
});
