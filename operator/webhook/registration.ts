/**
 * Registers the webhook with the apiserver: a MutatingWebhookConfiguration for Pod CREATE,
 * filtered by the apiserver itself to pods opted in by their own label or their namespace's,
 * never in kube-system or the operator's namespace. The CA bundle is the
 * operator's own, rewritten whenever the certificate changes.
 */
import type {
  AdmissionregistrationV1Api,
  V1MutatingWebhook,
  V1MutatingWebhookConfiguration,
} from '@kubernetes/client-node';
import { INJECT_LABEL } from './inject.ts';

export interface RegistrationOptions {
  name: string;
  caPem: string;
  /** Out of cluster: the URL the apiserver calls. In cluster: the Service. */
  url?: string;
  service?: { namespace: string; name: string; port: number };
  operatorNamespace: string;
  failurePolicy: 'Ignore' | 'Fail';
}

export function webhookConfiguration(o: RegistrationOptions): V1MutatingWebhookConfiguration {
  const excluded = {
    key: 'kubernetes.io/metadata.name',
    operator: 'NotIn',
    values: ['kube-system', o.operatorNamespace],
  };
  const optIn = { key: INJECT_LABEL, operator: 'In', values: ['enabled'] };
  // Two webhooks, so the apiserver itself filters: one for namespaces that opt in, one for pods
  // that do. A pod opted in both ways passes through both; the second sees it injected already.
  const webhook = (
    name: string,
    selectors: Pick<V1MutatingWebhook, 'namespaceSelector' | 'objectSelector'>,
  ): V1MutatingWebhook => ({
    name,
    admissionReviewVersions: ['v1'],
    sideEffects: 'None',
    failurePolicy: o.failurePolicy,
    reinvocationPolicy: 'Never',
    timeoutSeconds: 5,
    clientConfig: {
      caBundle: Buffer.from(o.caPem).toString('base64'),
      ...(o.url ? { url: `${o.url}/mutate` } : { service: { ...o.service!, path: '/mutate' } }),
    },
    rules: [
      {
        operations: ['CREATE'],
        apiGroups: [''],
        apiVersions: ['v1'],
        resources: ['pods'],
        scope: 'Namespaced',
      },
    ],
    ...selectors,
  });
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: {
      name: o.name,
      labels: {
        'app.kubernetes.io/part-of': 'riskgate',
        'app.kubernetes.io/managed-by': 'riskgate-operator',
      },
    },
    webhooks: [
      webhook('namespace.inject.riskgate.dev', {
        namespaceSelector: { matchExpressions: [excluded, optIn] },
      }),
      webhook('pod.inject.riskgate.dev', {
        namespaceSelector: { matchExpressions: [excluded] },
        objectSelector: { matchExpressions: [optIn] },
      }),
    ],
  };
}

/**
 * Makes the configuration current. One the chart installed (so `helm uninstall` removes it, and
 * no webhook outlives the operator) is the chart's: only its CA bundle is the operator's to set.
 * Without the chart (out of cluster, tests), the operator writes all of it.
 */
export async function register(api: AdmissionregistrationV1Api, o: RegistrationOptions): Promise<void> {
  const body = webhookConfiguration(o);
  let existing: V1MutatingWebhookConfiguration | undefined;
  try {
    existing = await api.readMutatingWebhookConfiguration({ name: o.name });
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
  }
  if (!existing) {
    await api.createMutatingWebhookConfiguration({ body });
    return;
  }
  if (existing.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'Helm') {
    const caBundle = Buffer.from(o.caPem).toString('base64');
    if ((existing.webhooks ?? []).every((w) => w.clientConfig.caBundle === caBundle)) return;
    for (const w of existing.webhooks ?? []) w.clientConfig.caBundle = caBundle;
    await api.replaceMutatingWebhookConfiguration({ name: o.name, body: existing });
    return;
  }
  body.metadata!.resourceVersion = existing.metadata?.resourceVersion;
  await api.replaceMutatingWebhookConfiguration({ name: o.name, body });
}
