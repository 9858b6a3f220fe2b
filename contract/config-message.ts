/**
 * The config channel: the operator publishes a policy's compiled config (the same YAML document
 * it writes to the ConfigMap the sidecars mount) on the policy's channel, and enforcers
 * subscribed to it apply it at once instead of waiting for the kubelet to sync the volume.
 */
export { configChannel } from './redis-keys.ts';

/** The message is the ConfigMap's policy document, as text. */
export function encodeConfigMessage(policyDocument: string): string {
  return policyDocument;
}

export function decodeConfigMessage(message: string): string {
  return message;
}
