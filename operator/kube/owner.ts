/**
 * What the operator makes for itself in its namespace — its Secrets, its Lease — is owned by its
 * Deployment, so that removing the Deployment (`helm uninstall`) lets the garbage collector
 * remove them too, instead of leaving key material behind.
 */
import { AppsV1Api, type KubeConfig, type V1OwnerReference } from '@kubernetes/client-node';

export async function deploymentOwner(
  kc: KubeConfig,
  namespace: string,
  name: string,
): Promise<V1OwnerReference> {
  const d = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace });
  return { apiVersion: 'apps/v1', kind: 'Deployment', name, uid: d.metadata!.uid! };
}
