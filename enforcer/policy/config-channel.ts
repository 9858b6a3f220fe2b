/**
 * The enforcer's side of the config channel (contract/config-message.ts): a policy pushed by the
 * operator arrives here, to be verified (shared-state.ts) and applied ahead of the kubelet
 * syncing the mounted ConfigMap.
 */
import { Redis } from 'ioredis';

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
