/**
 * Wycheproof's JSON Web Signature vectors (C2SP, Apache-2.0; test/fixtures/wycheproof) through
 * the signature layer of the token verifier: the same key lookup (buildKeyLookup) and the same
 * asymmetric-only algorithm list. Every vector Wycheproof calls invalid must be refused;
 * valid ones are accepted when their algorithm is one a policy may allow.
 */
import { readFileSync } from 'node:fs';
import { compactVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { checkSecurityRow } from '../../test/support/security-doc.ts';
import { buildKeyLookup } from './key-source.ts';

interface Vector {
  tcId: number;
  comment: string;
  jws: string | object;
  result: 'valid' | 'invalid' | 'acceptable';
}
interface Group {
  comment: string;
  public?: Record<string, unknown>;
  tests: Vector[];
}

const suite = JSON.parse(readFileSync('test/fixtures/wycheproof/json_web_signature_test.json', 'utf8')) as {
  testGroups: Group[];
};
// What the RiskPolicy schema lets a policy allow: asymmetric algorithms only.
const ALLOWED = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];

async function verifies(
  publicKey: Record<string, unknown> | undefined,
  jws: string | object,
): Promise<boolean> {
  if (typeof jws !== 'string') return false; // JSON serialization is not a bearer token
  if (!publicKey) return false; // symmetric-only groups: no key a policy could hold
  try {
    const keys = await buildKeyLookup({ keys: [publicKey] }, '.');
    await compactVerify(jws, keys as never, { algorithms: ALLOWED });
    return true;
  } catch {
    return false;
  }
}

describe('Wycheproof JSON Web Signature vectors', () => {
  const vectors = suite.testGroups.flatMap((g) => g.tests.map((t) => ({ group: g, t })));

  it('refuses every invalid vector', async () => {
    const accepted: string[] = [];
    for (const { group, t } of vectors.filter((v) => v.t.result === 'invalid')) {
      if (await verifies(group.public, t.jws)) accepted.push(`${group.comment} #${t.tcId} ${t.comment}`);
    }
    expect(accepted).toEqual([]);
    const invalid = vectors.filter((v) => v.t.result === 'invalid').length;
    checkSecurityRow(
      'fault-wycheproof',
      `${invalid} of ${invalid} invalid vectors refused; valid ones accepted where their algorithm may be allowed`,
    );
  });

  it('accepts the valid vectors whose algorithm a policy may allow', async () => {
    const refused: string[] = [];
    let checked = 0;
    for (const { group, t } of vectors.filter((v) => v.t.result === 'valid')) {
      const alg = group.public?.['alg'];
      const usableKey = group.public && group.public['use'] !== 'enc' && !group.public['key_ops'];
      if (typeof alg !== 'string' || !ALLOWED.includes(alg) || !usableKey || typeof t.jws !== 'string')
        continue;
      // A token whose header names another algorithm than its key declares is refused: stricter
      // than Wycheproof, which lets RFC 7520's figures pass.
      const headerAlg = JSON.parse(Buffer.from(t.jws.split('.')[0]!, 'base64url').toString()).alg;
      if (headerAlg !== alg) {
        expect(await verifies(group.public, t.jws)).toBe(false);
        continue;
      }
      checked++;
      if (!(await verifies(group.public, t.jws))) refused.push(`${group.comment} #${t.tcId} ${t.comment}`);
    }
    expect(checked).toBeGreaterThan(10);
    expect(refused).toEqual([]);
  });
});
