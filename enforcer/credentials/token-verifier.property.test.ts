import fc from 'fast-check';
import { createLocalJWKSet } from 'jose';
import { describe, expect, it } from 'vitest';
import { TokenVerifier } from './token-verifier.ts';

const verifier = new TokenVerifier([
  {
    name: 'p',
    issuer: 'https://issuer.example',
    audiences: ['api'],
    algorithms: ['ES256'],
    clockToleranceSeconds: 0,
    scopeClaim: 'scope',
    keys: createLocalJWKSet({ keys: [] }),
  },
]);

describe('token verifier on arbitrary input (property)', () => {
  it('answers a reason code for any string and never throws', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.tuple(fc.base64String(), fc.base64String(), fc.base64String()).map((p) => p.join('.')),
          fc
            .json()
            .map(
              (j) =>
                `${Buffer.from('{"alg":"ES256"}').toString('base64url')}.${Buffer.from(j).toString('base64url')}.x`,
            ),
        ),
        async (token) => {
          const r = await verifier.verify(token);
          expect(r.ok).toBe(false);
          if (!r.ok) expect(r.reason).toMatch(/^auth\.[a-z_]+$/);
        },
      ),
      { numRuns: 500 },
    );
  });
});
