/** Mints test tokens with the published demo key (examples/keys), never a real one. */
import { readFileSync } from 'node:fs';
import { importJWK, type JWTPayload, SignJWT } from 'jose';

export const DEMO_ISSUER = 'https://issuer.demo.riskgate.dev';
export const DEMO_AUDIENCE = 'shop-api';

const privateJwk = JSON.parse(
  readFileSync(new URL('../../examples/keys/demo-issuer.private.jwk.json', import.meta.url), 'utf8'),
);

export async function demoToken(claims: JWTPayload = {}, options: { expiresIn?: string | number } = {}) {
  const key = await importJWK(privateJwk, 'ES256');
  return new SignJWT({ scope: 'payments:write', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: privateJwk.kid })
    .setIssuer(typeof claims.iss === 'string' ? claims.iss : DEMO_ISSUER)
    .setAudience(claims.aud ?? DEMO_AUDIENCE)
    .setSubject(typeof claims.sub === 'string' ? claims.sub : 'alice')
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '10m')
    .sign(key);
}
