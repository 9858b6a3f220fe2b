/**
 * The mutating admission webhook: HTTPS, AdmissionReview v1, Pod CREATE. It answers every
 * review with allowed: true — injection is a convenience the apiserver asked for, and a pod
 * that cannot be injected is admitted as it is, with a warning that says why.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { V1Pod } from '@kubernetes/client-node';
import {
  type InjectedPolicy,
  InjectionError,
  type InjectionSettings,
  inject,
  injectionPatch,
} from './inject.ts';

export interface AdmissionOptions {
  cert: () => { certPem: string; keyPem: string };
  /** The RiskPolicy selecting this pod, if any. */
  policyFor: (namespace: string, labels: Record<string, string>) => InjectedPolicy | undefined;
  settings: InjectionSettings;
  onInjected?: (namespace: string, policy: string, pod: string, warnings: readonly string[]) => void;
  /** A pod a policy selects, admitted without an enforcer: why. */
  onSkipped?: (namespace: string, policy: string, pod: string, reason: string, why: string) => void;
  onError?: (err: unknown) => void;
}

interface AdmissionReview {
  apiVersion: string;
  kind: string;
  request?: { uid: string; namespace?: string; operation?: string; object?: V1Pod };
}

const MAX_BODY = 4 * 1024 * 1024;

/** A pod being created may only have generateName yet. */
const podName = (pod: V1Pod) => pod.metadata?.name ?? `${pod.metadata?.generateName ?? ''}…`;

export function review(body: AdmissionReview, options: AdmissionOptions): object {
  const req = body.request;
  const respond = (extra: Record<string, unknown>) => ({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: { uid: req?.uid ?? '', allowed: true, ...extra },
  });
  if (!req?.object || req.operation !== 'CREATE') return respond({});
  const pod = req.object;
  const namespace = req.namespace ?? pod.metadata?.namespace ?? 'default';
  const policy = options.policyFor(namespace, pod.metadata?.labels ?? {});
  if (!policy) return respond({});
  try {
    const injected = inject(pod, policy, options.settings);
    if (injected.pod === pod) return respond({});
    const patch = injectionPatch(pod, injected.pod);
    options.onInjected?.(namespace, policy.name, podName(pod), injected.warnings);
    return respond({
      patchType: 'JSONPatch',
      patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
      ...(injected.warnings.length > 0 ? { warnings: injected.warnings } : {}),
    });
  } catch (err) {
    if (!(err instanceof InjectionError)) options.onError?.(err);
    const reason = err instanceof InjectionError ? err.reason : 'error';
    options.onSkipped?.(namespace, policy.name, podName(pod), reason, (err as Error).message);
    return respond({ warnings: [`riskgate: not injected: ${(err as Error).message}`] });
  }
}

export async function startAdmissionServer(options: AdmissionOptions, host: string, port: number) {
  const { certPem, keyPem } = options.cert();
  const server: Server = createServer({ cert: certPem, key: keyPem }, (req, res) => {
    if (req.method !== 'POST' || !req.url?.startsWith('/mutate')) {
      res.statusCode = 404;
      res.end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      let body: AdmissionReview;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.statusCode = 400;
        res.end();
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(review(body, options)));
    });
  });
  // A port in use is a start failure with a message, not an unhandled 'error' event.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    /** Swaps in a renewed certificate without a restart. */
    reloadCertificate() {
      const next = options.cert();
      server.setSecureContext({ cert: next.certPem, key: next.keyPem });
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
