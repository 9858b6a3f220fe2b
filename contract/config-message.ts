/**
 * The config channel: the operator publishes a policy's compiled config (the same YAML document
 * it writes to the ConfigMap the sidecars mount) on the policy's channel, and enforcers apply it
 * at once instead of waiting for the kubelet to sync the volume.
 *
 * Anyone who can reach Redis can publish, so a message is only a proposal: it is signed (Ed25519)
 * with the operator's key, whose public half travels in the ConfigMap itself, and it names its
 * policy and the time it was issued. An enforcer applies a message that verifies against the key
 * in its mounted ConfigMap, names its own policy, and is newer than the config it runs (the
 * ConfigMap says when its config was issued) — so a forged config is refused, and an old signed
 * one (`mode: monitor` last week) cannot be replayed.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';

export { configChannel } from './redis-keys.ts';

/** ConfigMap keys beside POLICY_FILE. */
export const SIGNER_KEY_FILE = 'config-signer.pub';
export const ISSUED_AT_FILE = 'issued-at';

export interface ConfigMessage {
  /** `<namespace>/<policy>`. */
  scope: string;
  /** Epoch ms; also written to the ConfigMap with the same config. */
  issuedAt: number;
  config: string;
}

const signed = (m: ConfigMessage) =>
  Buffer.from(`riskgate-config-v1\n${m.scope}\n${m.issuedAt}\n${m.config}`);

export class ConfigSigner {
  readonly publicKeyPem: string;
  private readonly key: KeyObject;

  /** `privateKeyPem`: PKCS#8 Ed25519, as `generateSignerKey` writes it. */
  constructor(privateKeyPem: string) {
    this.key = createPrivateKey(privateKeyPem);
    if (this.key.asymmetricKeyType !== 'ed25519') throw new Error('config signer key must be Ed25519');
    this.publicKeyPem = createPublicKey(this.key).export({ type: 'spki', format: 'pem' }).toString();
  }

  encode(message: ConfigMessage): string {
    const sig = sign(null, signed(message), this.key).toString('base64');
    return JSON.stringify({ v: 1, ...message, sig });
  }
}

export function generateSignerKey(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export type Verdict =
  | { ok: true; message: ConfigMessage }
  | { ok: false; reason: 'malformed' | 'no-key' | 'bad-signature' | 'other-policy' | 'not-newer' };

/**
 * Checks a message against the enforcer's own scope, the signer key and issue time of its
 * mounted ConfigMap (undefined when not mounted), and the newest config it has applied.
 */
export function verifyConfigMessage(
  text: string,
  expect: { scope: string; publicKeyPem: string | undefined; newerThan: number },
): Verdict {
  let m: { v?: unknown; scope?: unknown; issuedAt?: unknown; config?: unknown; sig?: unknown };
  try {
    m = JSON.parse(text) as typeof m;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (
    m === null ||
    typeof m !== 'object' ||
    m.v !== 1 ||
    typeof m.scope !== 'string' ||
    typeof m.issuedAt !== 'number' ||
    !Number.isSafeInteger(m.issuedAt) ||
    typeof m.config !== 'string' ||
    typeof m.sig !== 'string'
  ) {
    return { ok: false, reason: 'malformed' };
  }
  if (!expect.publicKeyPem) return { ok: false, reason: 'no-key' };
  const message: ConfigMessage = { scope: m.scope, issuedAt: m.issuedAt, config: m.config };
  let good = false;
  try {
    good = verify(null, signed(message), createPublicKey(expect.publicKeyPem), Buffer.from(m.sig, 'base64'));
  } catch {
    good = false;
  }
  if (!good) return { ok: false, reason: 'bad-signature' };
  if (message.scope !== expect.scope) return { ok: false, reason: 'other-policy' };
  if (message.issuedAt <= expect.newerThan) return { ok: false, reason: 'not-newer' };
  return { ok: true, message };
}
