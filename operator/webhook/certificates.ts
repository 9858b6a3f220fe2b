/**
 * The webhook's TLS, self-managed: a CA and a serving certificate (ECDSA P-256) generated with
 * @peculiar/x509. The CA's certificate becomes the webhook configuration's caBundle; the serving
 * certificate is renewed well before it expires. (With cert-manager, the chart mounts its
 * certificate instead and none of this runs.)
 */
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as never);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

export interface ServingCertificate {
  caPem: string;
  certPem: string;
  keyPem: string;
  notAfter: Date;
  /** The CA before the last renewal, still trusted so that replicas not yet renewed are too. */
  previousCaPem?: string;
}

/** What the webhook configuration trusts: the CA, and the one before it during a renewal. */
export function caBundleOf(cert: ServingCertificate): string {
  return cert.previousCaPem ? `${cert.caPem}${cert.previousCaPem}` : cert.caPem;
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

function serial(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
    .toString('hex')
    .replace(/^[89a-f]/, '1');
}

/** A new CA and a certificate for the given DNS names and IP addresses, signed by it. */
export async function generateServingCertificate(
  dnsNames: string[],
  ipAddresses: string[],
  validDays = 365,
): Promise<ServingCertificate> {
  const now = new Date(Date.now() - 60_000);
  const caKeys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=riskgate-webhook-ca',
    notBefore: now,
    notAfter: new Date(now.getTime() + 10 * 365 * DAY),
    keys: caKeys as never,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const leafKeys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const notAfter = new Date(now.getTime() + validDays * DAY);
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${dnsNames[0] ?? ipAddresses[0] ?? 'riskgate-webhook'}`,
    issuer: ca.subject,
    notBefore: now,
    notAfter,
    signingKey: caKeys.privateKey as never,
    publicKey: leafKeys.publicKey as never,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
      ]),
    ],
  });
  const key = await webcrypto.subtle.exportKey('pkcs8', leafKeys.privateKey);
  return {
    caPem: ca.toString('pem'),
    certPem: leaf.toString('pem'),
    keyPem: pem('PRIVATE KEY', key),
    notAfter,
  };
}

/** True when the certificate should be replaced: less than a third of a year left. */
export function needsRenewal(cert: ServingCertificate, now = Date.now()): boolean {
  return cert.notAfter.getTime() - now < 120 * DAY;
}
