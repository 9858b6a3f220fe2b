/**
 * Builds the key lookup jose uses to verify a token, from one of a policy's key sources: a JWKS
 * URL (cached; refetched on an unknown kid, at most once per cooldown), inline JWKs, or a file
 * holding a JWKS, one JWK or a PEM public key.
 */
import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  type JSONWebKeySet,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose';

export interface KeySourceSpec {
  jwksUri?: string | undefined;
  keys?: Record<string, unknown>[] | undefined;
  keysFile?: string | undefined;
}

export class KeySourceError extends Error {
  readonly code = 'RG_ERR_KEY_SOURCE';
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

function publicOnly(keys: unknown[], where: string): JSONWebKeySet {
  for (const key of keys) {
    if (typeof key !== 'object' || key === null)
      throw new KeySourceError(`${where}: a key is not a JWK object`);
    if (PRIVATE_MEMBERS.some((m) => Object.hasOwn(key, m)))
      throw new KeySourceError(`${where}: private key material is refused; give the public key only`);
  }
  return { keys: keys as JWK[] };
}

async function readKeysFile(path: string): Promise<JSONWebKeySet> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new KeySourceError(`keysFile ${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  if (text.includes('-----BEGIN')) {
    if (text.includes('PRIVATE KEY')) throw new KeySourceError(`keysFile ${path}: private keys are refused`);
    try {
      return { keys: [createPublicKey(text).export({ format: 'jwk' }) as JWK] };
    } catch (err) {
      throw new KeySourceError(`keysFile ${path}: not a PEM public key (${(err as Error).message})`);
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new KeySourceError(`keysFile ${path}: neither PEM nor JSON`);
  }
  const keys = (json as { keys?: unknown }).keys;
  return publicOnly(Array.isArray(keys) ? keys : [json], `keysFile ${path}`);
}

export interface RemoteJwksTiming {
  /** Keys are refetched after this even without an unknown kid. */
  cacheMaxAgeMs: number;
  /** An unknown kid triggers a refetch at most this often: a flood of bogus kids costs one fetch. */
  cooldownMs: number;
}

const DEFAULT_TIMING: RemoteJwksTiming = { cacheMaxAgeMs: 10 * 60_000, cooldownMs: 30_000 };

export async function buildKeyLookup(
  source: KeySourceSpec,
  baseDir: string,
  timing: RemoteJwksTiming = DEFAULT_TIMING,
): Promise<JWTVerifyGetKey> {
  if (source.jwksUri) {
    return createRemoteJWKSet(new URL(source.jwksUri), {
      cacheMaxAge: timing.cacheMaxAgeMs,
      cooldownDuration: timing.cooldownMs,
      timeoutDuration: 5_000,
    });
  }
  if (source.keys) return createLocalJWKSet(publicOnly(source.keys, 'keys'));
  if (source.keysFile) return createLocalJWKSet(await readKeysFile(resolve(baseDir, source.keysFile)));
  throw new KeySourceError('no key source');
}
