/**
 * A webhook certificate managed elsewhere (cert-manager): tls.crt, tls.key and ca.crt in a
 * mounted Secret, read at start and again whenever the files change.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ServingCertificate } from './certificates.ts';

export class CertificateDirError extends Error {
  readonly code = 'RG_ERR_WEBHOOK_CERT';
}

export function readCertificateDir(dir: string): ServingCertificate {
  try {
    return {
      certPem: readFileSync(join(dir, 'tls.crt'), 'utf8'),
      keyPem: readFileSync(join(dir, 'tls.key'), 'utf8'),
      caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
      notAfter: new Date(8.64e15),
    };
  } catch (err) {
    throw new CertificateDirError(
      `${dir}: needs tls.crt, tls.key and ca.crt (${(err as NodeJS.ErrnoException).code})`,
    );
  }
}

/** Changes when cert-manager rotates the Secret (the kubelet swaps the mounted files). */
export function certificateDirStamp(dir: string): string {
  try {
    return ['tls.crt', 'tls.key', 'ca.crt'].map((f) => statSync(join(dir, f)).mtimeMs).join(':');
  } catch {
    return 'missing';
  }
}
