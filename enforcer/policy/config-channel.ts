/**
 * The fast path of a policy change in a cluster: the operator publishes the compiled policy on
 * a Redis channel as it writes the ConfigMap; enforcers subscribed to it apply it at once,
 * instead of waiting for the kubelet to sync the mounted volume (up to about a minute).
 */
import { Redis } from 'ioredis';

export function configChannel(namespace: string, policy: string): string {
  return `rg:{${namespace}/${policy}}:config`;
}

export function subscribeToConfig(
  url: string,
  channel: string,
  onConfig: (text: string) => void,
): () => void {
  const subscriber = new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (n) => Math.min(100 * n, 2000),
  });
  subscriber.on('error', () => {});
  subscriber.on('message', (ch: string, message: string) => {
    if (ch === channel) onConfig(message);
  });
  void subscriber.subscribe(channel).catch(() => {});
  return () => subscriber.disconnect();
}
