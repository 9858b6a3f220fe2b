/**
 * A Secret the operator makes for itself in its own namespace (the webhook's serving
 * certificate, the config signing key): every replica must use the same one, so the first
 * creates it and the others read it; a replica that loses the creation race reads the winner's.
 */
import type { CoreV1Api, V1OwnerReference } from '@kubernetes/client-node';

export type SecretData = Record<string, string>;

const code = (err: unknown) => (err as { code?: number }).code;

export async function loadOrCreateSecret(
  core: CoreV1Api,
  at: { namespace: string; name: string; type?: string; owner?: V1OwnerReference | undefined },
  /** Whether stored data is whole and still good; if not, it is replaced with `generate`'s. */
  usable: (data: SecretData) => boolean,
  /** New data; `previous` is what was stored, when it is being replaced. */
  generate: (previous: SecretData | undefined) => Promise<SecretData> | SecretData,
): Promise<SecretData> {
  const { namespace, name } = at;
  const read = async () => {
    try {
      const s = await core.readNamespacedSecret({ name, namespace });
      const data = Object.fromEntries(
        Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
      );
      return {
        data,
        resourceVersion: s.metadata?.resourceVersion,
        owners: s.metadata?.ownerReferences ?? [],
      };
    } catch (err) {
      if (code(err) === 404) return undefined;
      throw err;
    }
  };
  const existing = await read();
  const owned = (o: { owners: V1OwnerReference[] }) =>
    !at.owner || o.owners.some((r) => r.uid === at.owner!.uid);
  if (existing && usable(existing.data) && owned(existing)) return existing.data;
  // Usable but not yet owned (made before the operator knew its Deployment): adopted, data kept.
  const data = existing && usable(existing.data) ? existing.data : await generate(existing?.data);
  const body = {
    metadata: {
      name,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'riskgate-operator' },
      ...(existing?.resourceVersion ? { resourceVersion: existing.resourceVersion } : {}),
      ...(at.owner ? { ownerReferences: [at.owner] } : {}),
    },
    ...(at.type ? { type: at.type } : {}),
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
  try {
    if (existing) await core.replaceNamespacedSecret({ name, namespace, body });
    else await core.createNamespacedSecret({ namespace, body });
    return data;
  } catch (err) {
    // Another replica created or replaced it first: use theirs.
    if (code(err) !== 409) throw err;
    const winner = await read();
    if (!winner || !usable(winner.data)) throw err;
    return winner.data;
  }
}
