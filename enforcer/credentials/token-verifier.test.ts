import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RecordingUpstream, startRecordingUpstream } from '../../test/support/recording-upstream.ts';
import { buildKeyLookup, type RemoteJwksTiming } from './key-source.ts';
import { TokenVerifier } from './token-verifier.ts';

const ISSUER = 'https://idp.test';

async function keyPair(kid: string) {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256' } as JWK };
}

function sign(key: Awaited<ReturnType<typeof keyPair>>, claims: Record<string, unknown> = {}) {
  return new SignJWT({ scope: 'a b', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .setIssuer(ISSUER)
    .setAudience('api')
    .setSubject('alice')
    .setExpirationTime('5m')
    .sign(key.privateKey);
}

/** A verifier of ISSUER's ES256 tokens for audience `api`, keys from a JWKS URL. */
async function verifierFor(jwksUri: string, timing?: RemoteJwksTiming) {
  return new TokenVerifier([
    {
      name: 'idp',
      issuer: ISSUER,
      audiences: ['api'],
      algorithms: ['ES256'],
      clockToleranceSeconds: 0,
      scopeClaim: 'scope',
      keys: await buildKeyLookup({ jwksUri }, '.', timing),
    },
  ]);
}

let jwksServer: RecordingUpstream;
let served: JWK[] = [];

beforeAll(async () => {
  jwksServer = await startRecordingUpstream();
  jwksServer.respond = (_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: served }));
  };
});

afterAll(() => jwksServer.close());

describe('token verifier with a JWKS URL', () => {
  it('fetches keys once, caches verified tokens, and follows key rotation', async () => {
    const first = await keyPair('k1');
    const second = await keyPair('k2');
    served = [first.jwk];
    const verifier = await verifierFor(`${jwksServer.url}/jwks`, { cacheMaxAgeMs: 60_000, cooldownMs: 50 });
    const t1 = await sign(first);
    const r1 = await verifier.verify(t1);
    expect(r1).toMatchObject({ ok: true, subject: 'alice' });
    expect(r1.ok && [...r1.scopes]).toEqual(['a', 'b']);
    expect(verifier.cached(t1)).toBe(r1);
    const fetches = jwksServer.requests.length;
    await verifier.verify(await sign(first, { jti: 'other' }));
    expect(jwksServer.requests.length).toBe(fetches);

    // the IdP rotates: a token with a new kid makes the verifier refetch
    served = [first.jwk, second.jwk];
    await new Promise((r) => setTimeout(r, 80));
    expect(await verifier.verify(await sign(second))).toMatchObject({ ok: true });
    expect(jwksServer.requests.length).toBe(fetches + 1);

    // a kid nobody publishes is an unknown key, not a crash
    const rogue = await keyPair('k3');
    expect(await verifier.verify(await sign(rogue))).toEqual({ ok: false, reason: 'auth.token_unknown_key' });
  });

  it('answers keys_unavailable when the JWKS endpoint is down', async () => {
    const key = await keyPair('k1');
    const verifier = await verifierFor('http://127.0.0.1:1/jwks');
    const result = await verifier.verify(await sign(key));
    expect(result.ok).toBe(false);
    expect(result.ok === false && result.reason).toBe('auth.keys_unavailable');
  });
});

describe('the verified-token cache', () => {
  it('answers only for the exact token: a forged payload under a cached signature is verified, and refused', async () => {
    const key = await keyPair('k1');
    served = [key.jwk];
    const verifier = await verifierFor(`${jwksServer.url}/jwks`);
    const genuine = await sign(key);
    expect(await verifier.verify(genuine)).toMatchObject({ ok: true, subject: 'alice' });

    // Same header and signature, a payload that makes the bearer an admin.
    const [header, , signature] = genuine.split('.');
    const payload = Buffer.from(
      JSON.stringify({ iss: ISSUER, aud: 'api', sub: 'root', scope: 'admin', exp: 9_999_999_999 }),
    ).toString('base64url');
    const forged = `${header}.${payload}.${signature}`;
    expect(verifier.cached(forged)).toBeUndefined();
    expect(await verifier.verify(forged)).toEqual({ ok: false, reason: 'auth.token_signature' });
    expect(verifier.cached(forged)).toEqual({ ok: false, reason: 'auth.token_signature' });
    // The genuine token is still accepted (verified again: the forgery took its cache entry).
    expect(verifier.cached(genuine)).toBeUndefined();
    expect(await verifier.verify(genuine)).toMatchObject({ ok: true, subject: 'alice' });
  });
});
