/**
 * The injection webhook as one component: its serving certificate (shared through a Secret in a
 * cluster, followed on disk when cert-manager manages it, self-made and renewed outside), the
 * HTTPS admission server every replica runs, and the registration the leader keeps current.
 */
import type { AdmissionregistrationV1Api, CoreV1Api, V1OwnerReference } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Component } from '../../lib/components.ts';
import { type AdmissionOptions, startAdmissionServer } from './admission-server.ts';
import { certificateDirStamp, readCertificateDir } from './certificate-dir.ts';
import { loadOrCreateCertificate } from './certificate-secret.ts';
import {
  caBundleOf,
  generateServingCertificate,
  needsRenewal,
  type ServingCertificate,
} from './certificates.ts';
import { register } from './registration.ts';

export interface WebhookOptions {
  host: string;
  port: number;
  /** Out of cluster: the URL the apiserver calls. */
  url?: string;
  /** In cluster: the Service the apiserver calls. */
  service?: { name: string; port: number };
  /** A certificate managed elsewhere (cert-manager): tls.crt, tls.key, ca.crt. */
  certDir?: string;
  failurePolicy: 'Ignore' | 'Fail';
  operatorNamespace: string;
  /** Owns the certificate Secret (kube/owner.ts). */
  owner?: V1OwnerReference | undefined;
}

const CERT_DIR_CHECK_MS = 30_000;
const RENEWAL_CHECK_MS = 86_400_000;
/** How often replicas re-read the shared certificate Secret (one of them renews it in time). */
const CERT_SECRET_CHECK_MS = 3_600_000;

export class Webhook implements Component {
  readonly name = 'webhook';
  private readonly options: WebhookOptions;
  private readonly core: CoreV1Api;
  private readonly admission: AdmissionregistrationV1Api;
  private readonly review: Omit<AdmissionOptions, 'cert'>;
  private readonly log: Logger;
  private cert: ServingCertificate | undefined;
  private server: Awaited<ReturnType<typeof startAdmissionServer>> | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  /** Whether this replica keeps the registration current (the leader). */
  private registering = false;

  constructor(
    options: WebhookOptions,
    apis: { core: CoreV1Api; admission: AdmissionregistrationV1Api },
    review: Omit<AdmissionOptions, 'cert'>,
    log: Logger,
  ) {
    this.options = options;
    this.core = apis.core;
    this.admission = apis.admission;
    this.review = review;
    this.log = log;
  }

  get port(): number {
    return this.server?.port ?? 0;
  }

  private dnsNames(): string[] {
    const s = this.options.service;
    const ns = this.options.operatorNamespace;
    return s ? [`${s.name}.${ns}.svc`, `${s.name}.${ns}.svc.cluster.local`] : ['localhost'];
  }

  private async loadCertificate(): Promise<ServingCertificate> {
    if (this.options.certDir) return readCertificateDir(this.options.certDir);
    if (this.options.service) {
      return loadOrCreateCertificate(
        this.core,
        this.options.operatorNamespace,
        'riskgate-webhook-tls',
        this.dnsNames(),
        Date.now(),
        this.options.owner,
      );
    }
    return generateServingCertificate(this.dnsNames(), ['127.0.0.1']);
  }

  async start(): Promise<void> {
    this.cert = await this.loadCertificate();
    this.server = await startAdmissionServer(
      { ...this.review, cert: () => this.cert! },
      this.options.host,
      this.options.port,
    );
    const certDir = this.options.certDir;
    if (certDir) {
      // cert-manager rotates its certificate by swapping the mounted files: follow them.
      let stamp = certificateDirStamp(certDir);
      this.every(CERT_DIR_CHECK_MS, async () => {
        const now = certificateDirStamp(certDir);
        if (now === stamp) return;
        try {
          this.swap(readCertificateDir(certDir));
          stamp = now;
          if (this.registering) await this.register();
        } catch (err) {
          this.log.error(
            { err: (err as Error).message },
            'webhook certificate unreadable; keeping the current one',
          );
        }
      });
    } else if (this.options.service) {
      // In a cluster: whichever replica first finds the certificate within a month of its end
      // renews it in the Secret (the old CA stays trusted beside the new); every replica follows.
      this.every(CERT_SECRET_CHECK_MS, () => this.followSecret());
    } else {
      // Out of cluster the certificate is this process's own: renew it long before it expires.
      this.every(RENEWAL_CHECK_MS, async () => {
        if (!this.cert || !needsRenewal(this.cert)) return;
        this.swap(await generateServingCertificate(this.dnsNames(), ['127.0.0.1']));
        if (this.registering) await this.register();
      });
    }
  }

  /** Re-reads (and, when due, renews) the shared certificate; swaps and re-registers on change. */
  async followSecret(): Promise<void> {
    try {
      const cert = await this.loadCertificate();
      if (cert.certPem === this.cert?.certPem && cert.previousCaPem === this.cert?.previousCaPem) return;
      this.swap(cert);
      this.log.info({ notAfter: cert.notAfter.toISOString() }, 'webhook certificate renewed');
      if (this.registering) await this.register();
    } catch (err) {
      this.log.error(
        { err: (err as Error).message },
        'webhook certificate check failed; keeping the current one',
      );
    }
  }

  private every(ms: number, task: () => Promise<void>): void {
    const timer = setInterval(() => void task(), ms);
    timer.unref();
    this.timers.push(timer);
  }

  private swap(cert: ServingCertificate): void {
    this.cert = cert;
    this.server?.reloadCertificate();
  }

  /** Registers (or updates) the webhook with the current CA bundle; the leader's job. */
  async register(): Promise<void> {
    this.registering = true;
    const o = this.options;
    const url = o.url ?? (o.service ? undefined : `https://127.0.0.1:${this.port}`);
    await register(this.admission, {
      name: 'riskgate-injector',
      caPem: caBundleOf(this.cert!),
      ...(url
        ? { url }
        : { service: { namespace: o.operatorNamespace, name: o.service!.name, port: o.service!.port } }),
      operatorNamespace: o.operatorNamespace,
      failurePolicy: o.failurePolicy,
    });
  }

  /** This replica no longer leads: another keeps the registration. */
  stopRegistering(): void {
    this.registering = false;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.server?.close();
  }
}
