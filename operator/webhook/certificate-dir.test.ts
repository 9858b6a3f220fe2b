import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CertificateDirError, certificateDirStamp, readCertificateDir } from './certificate-dir.ts';
import { generateServingCertificate } from './certificates.ts';

describe('webhook certificate from a mounted Secret (cert-manager)', () => {
  it('reads tls.crt, tls.key and ca.crt, notices a rotation, and names what is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'riskgate-certs-'));
    expect(() => readCertificateDir(dir)).toThrow(CertificateDirError);
    const cert = await generateServingCertificate(['riskgate-webhook.riskgate-system.svc'], []);
    writeFileSync(join(dir, 'tls.crt'), cert.certPem);
    writeFileSync(join(dir, 'tls.key'), cert.keyPem);
    writeFileSync(join(dir, 'ca.crt'), cert.caPem);
    expect(readCertificateDir(dir)).toMatchObject({ certPem: cert.certPem, caPem: cert.caPem });
    const before = certificateDirStamp(dir);
    await new Promise((r) => setTimeout(r, 20));
    const next = await generateServingCertificate(['riskgate-webhook.riskgate-system.svc'], []);
    writeFileSync(join(dir, 'tls.crt'), next.certPem);
    expect(certificateDirStamp(dir)).not.toBe(before);
  });
});
