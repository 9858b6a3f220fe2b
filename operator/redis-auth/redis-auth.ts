/**
 * The Redis password: read by the operator from a Secret in its own namespace (created with a
 * random password for the bundled Redis), used for its own connection, and copied into each
 * namespace that has RiskPolicies as REDIS_AUTH_SECRET, the only Secret there the operator may
 * read or write — a pod can mount Secrets of its own namespace only.
 */
import { randomBytes } from 'node:crypto';
import type { CoreV1Api, V1OwnerReference } from '@kubernetes/client-node';
import { REDIS_AUTH_KEY, REDIS_AUTH_SECRET } from '../../contract/sidecar.ts';
import { loadOrCreateSecret } from '../kube/owned-secret.ts';

export interface RedisPasswordSource {
  /** In the operator's namespace. */
  secret: { name: string; key: string };
  /** Create it with a random password when it does not exist (the chart's own Redis). */
  create: boolean;
}

export async function readRedisPassword(
  core: CoreV1Api,
  namespace: string,
  source: RedisPasswordSource,
  owner?: V1OwnerReference,
): Promise<string> {
  const { name, key } = source.secret;
  if (!source.create) {
    const s = await core.readNamespacedSecret({ name, namespace });
    const v = s.data?.[key];
    if (!v) throw new Error(`Secret ${namespace}/${name} has no key ${key}`);
    return Buffer.from(v, 'base64').toString('utf8');
  }
  const data = await loadOrCreateSecret(
    core,
    { namespace, name, owner },
    (d) => Boolean(d[key]),
    () => ({ [key]: randomBytes(24).toString('base64url') }),
  );
  return data[key]!;
}

const notFound = (err: unknown) => (err as { code?: number }).code === 404;

/** Keeps the password's copy in the namespaces that need it. */
export class RedisAuthCopies {
  private readonly core: CoreV1Api;
  private readonly password: string;
  /** Namespaces known to hold the current copy, and since when (re-checked every few minutes). */
  private readonly checked = new Map<string, number>();

  constructor(core: CoreV1Api, password: string) {
    this.core = core;
    this.password = password;
  }

  async ensure(namespace: string, now = Date.now()): Promise<void> {
    if (now - (this.checked.get(namespace) ?? 0) < 5 * 60_000) return;
    const body = {
      metadata: {
        name: REDIS_AUTH_SECRET,
        namespace,
        labels: { 'app.kubernetes.io/managed-by': 'riskgate-operator' },
      },
      type: 'Opaque',
      data: { [REDIS_AUTH_KEY]: Buffer.from(this.password).toString('base64') },
    };
    let current: { data?: Record<string, string> } | undefined;
    try {
      current = await this.core.readNamespacedSecret({ name: REDIS_AUTH_SECRET, namespace });
    } catch (err) {
      if (!notFound(err)) throw err;
    }
    if (!current) await this.core.createNamespacedSecret({ namespace, body });
    else if (current.data?.[REDIS_AUTH_KEY] !== body.data[REDIS_AUTH_KEY]) {
      await this.core.replaceNamespacedSecret({ name: REDIS_AUTH_SECRET, namespace, body });
    }
    this.checked.set(namespace, now);
  }

  /** The namespace has no policies left: its copy goes. */
  async remove(namespace: string): Promise<void> {
    this.checked.delete(namespace);
    try {
      await this.core.deleteNamespacedSecret({ name: REDIS_AUTH_SECRET, namespace });
    } catch (err) {
      if (!notFound(err)) throw err;
    }
  }
}
