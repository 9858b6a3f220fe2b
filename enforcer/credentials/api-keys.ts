/**
 * API keys, held only as SHA-256 digests. A presented key is hashed once and compared with
 * every stored digest in constant time, with no early exit, so timing says nothing about which
 * stored key came close.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export interface ApiKeyEntry {
  id: string;
  sha256: string;
  scopes: string[];
}

export interface ApiKeyMatch {
  id: string;
  scopes: ReadonlySet<string>;
}

export class ApiKeyError extends Error {
  readonly code = 'RG_ERR_API_KEYS';
}

/** Parses `id:sha256hex` lines (the Secret format); # comments and blank lines are ignored. */
export function parseApiKeyLines(text: string, where: string): ApiKeyEntry[] {
  const entries: ApiKeyEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [id, digest, scopes] = line.split(':');
    if (!id || !digest || !/^[0-9a-f]{64}$/.test(digest)) {
      throw new ApiKeyError(`${where}:${index + 1}: expected id:sha256hex[:scope,scope]`);
    }
    entries.push({ id, sha256: digest, scopes: scopes ? scopes.split(',').filter(Boolean) : [] });
  });
  return entries;
}

export class ApiKeyStore {
  private readonly digests: Buffer[];
  private readonly matches: ApiKeyMatch[];

  constructor(entries: readonly ApiKeyEntry[]) {
    this.digests = entries.map((e) => Buffer.from(e.sha256, 'hex'));
    this.matches = entries.map((e) => ({ id: e.id, scopes: new Set(e.scopes) }));
  }

  get size(): number {
    return this.digests.length;
  }

  match(presented: string): ApiKeyMatch | undefined {
    if (presented.length === 0 || presented.length > 512) return undefined;
    const digest = createHash('sha256').update(presented).digest();
    let found = -1;
    for (let i = 0; i < this.digests.length; i++) {
      if (timingSafeEqual(digest, this.digests[i]!) && found === -1) found = i;
    }
    return found === -1 ? undefined : this.matches[found];
  }
}
