/** Who the pods are and who is asking: selector, client identity, authentication. */
import { z } from 'zod';
import { keyedList, withRules } from '../rule.ts';
import { cidr, duration, name } from './fields.ts';

// ---------------------------------------------------------------------------------------------
// selector: the Kubernetes LabelSelector shape, as Istio's AuthorizationPolicy uses it.

export const labelSelector = z
  .strictObject({
    matchLabels: z
      .record(z.string().max(317), z.string().max(63))
      .optional()
      .describe('Pods whose labels contain all of these key/value pairs.'),
    matchExpressions: z
      .array(
        z.strictObject({
          key: z.string().min(1).max(317),
          operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
          values: z.array(z.string().max(63)).max(64).optional(),
        }),
      )
      .max(16)
      .optional()
      .describe('Label selector requirements, ANDed, as in a Deployment selector.'),
  })
  .describe('The pods this policy protects, in the namespace of the policy. An empty selector selects none.');

/** A NetworkPolicyPeer, as networking.k8s.io/v1 has it. */
export const networkPolicyPeer = z
  .strictObject({
    podSelector: labelSelector.optional(),
    namespaceSelector: labelSelector.optional(),
    ipBlock: z
      .strictObject({
        cidr: cidr,
        except: z.array(cidr).max(32).optional(),
      })
      .optional(),
  })
  .describe('Pods, namespaces or an IP block, as in a NetworkPolicy `from`.');

// ---------------------------------------------------------------------------------------------
// clientIdentity: where the client address comes from.

export const clientIdentity = z
  .strictObject({
    trustedProxies: z
      .array(cidr)
      .max(64)
      .default([])
      .describe(
        'CIDRs of proxies whose X-Forwarded-For / Forwarded hops are believed. The client is the right-most hop not in this list; without a trusted peer the socket address is the client.',
      ),
    forwardedHeader: z
      .enum(['x-forwarded-for', 'forwarded'])
      .default('x-forwarded-for')
      .describe('Which header trusted proxies write.'),
    hiddenClients: z
      .enum(['accept', 'refuse'])
      .default('accept')
      .describe(
        'A client a trusted proxy withheld (RFC 7239 `for=unknown` or an obfuscated `for=_id`, also `unknown` in X-Forwarded-For). accept: scored without an address — an obfuscated id is counted as the client, `unknown` is not counted one by one. refuse: 400 RG_ERR_BAD_FORWARDED.',
      ),
    ipv6PrefixLength: z
      .number()
      .int()
      .min(48)
      .max(128)
      .default(64)
      .describe(
        'IPv6 clients are counted and rate-limited by this prefix (a host holds a /64 and may hop between its addresses); IPv4 clients by address. Default 64.',
      ),
  })
  .describe('How the client IP is found.');

// ---------------------------------------------------------------------------------------------
// authentication: who the subject is.

const jwkMember = z.string().max(4096).optional();
const jwk = z
  .strictObject({
    kty: z.enum(['RSA', 'EC', 'OKP']),
    kid: z.string().max(256).optional(),
    use: z.enum(['sig']).optional(),
    alg: z.string().max(16).optional(),
    n: jwkMember.describe('RSA modulus.'),
    e: z.string().max(16).optional().describe('RSA exponent.'),
    crv: z.enum(['P-256', 'P-384', 'P-521', 'Ed25519']).optional(),
    x: z.string().max(256).optional(),
    y: z.string().max(256).optional(),
    // Private members are declared only so that the rule below can refuse them.
    d: jwkMember.describe('Private: refused.'),
    p: jwkMember.describe('Private: refused.'),
    q: jwkMember.describe('Private: refused.'),
    dp: jwkMember.describe('Private: refused.'),
    dq: jwkMember.describe('Private: refused.'),
    qi: jwkMember.describe('Private: refused.'),
    k: jwkMember.describe('Symmetric: refused.'),
  })
  .describe('A public JSON Web Key (RFC 7517). Private and symmetric members are refused.');

export const keySource = {
  jwksUri: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .optional()
    .describe('JWKS endpoint; keys are cached and refetched on an unknown kid (key rotation).'),
  keys: z.array(jwk).max(16).optional().describe('Inline public keys, for clusters without a JWKS endpoint.'),
  keysFile: z
    .string()
    .max(1024)
    .optional()
    .describe('Path to a JWKS or PEM public key file, relative to the policy file (standalone use).'),
};
export type KeySource = {
  jwksUri?: string | undefined;
  keys?: unknown[] | undefined;
  keysFile?: string | undefined;
};
export const oneKeySource = {
  cel: '(has(self.jwksUri) ? 1 : 0) + (has(self.keys) ? 1 : 0) + (has(self.keysFile) ? 1 : 0) == 1',
  message: 'exactly one of jwksUri, keys or keysFile must be set',
  check: (v: KeySource) => [v.jwksUri, v.keys, v.keysFile].filter((x) => x !== undefined).length === 1,
};
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const;
export const noPrivateKeys = {
  cel: `!has(self.keys) || self.keys.all(k, ${PRIVATE_MEMBERS.map((m) => `!has(k.${m})`).join(' && ')})`,
  message: 'keys must be public keys: private members (d, p, q, dp, dq, qi, k) are not allowed',
  check: (v: KeySource) =>
    (v.keys ?? []).every((k) => !PRIVATE_MEMBERS.some((m) => Object.hasOwn(k as object, m))),
};

export const algorithm = z.enum([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'EdDSA',
]);

const jwtProvider = withRules(
  z
    .strictObject({
      name: name.describe('Name of this issuer, used in logs and metrics.'),
      issuer: z.string().min(1).max(2048).describe('Required `iss` claim.'),
      audiences: z
        .array(z.string().min(1).max(2048))
        .min(1)
        .max(16)
        .describe('Accepted `aud` values; one must match.'),
      ...keySource,
      algorithms: z
        .array(algorithm)
        .min(1)
        .max(9)
        .default(['RS256', 'ES256', 'EdDSA'])
        .describe('Accepted asymmetric algorithms. `none` and HMAC are never accepted.'),
      clockSkew: duration('30s').describe('Tolerance for exp and nbf. Default 30s.'),
      header: z
        .string()
        .max(64)
        .default('authorization')
        .describe('Header that carries `Bearer <token>`. Default authorization.'),
      scopeClaim: z
        .string()
        .max(64)
        .default('scope')
        .describe('Claim holding space-separated scopes. Default scope.'),
    })
    .describe('A JWT issuer whose tokens identify subjects.'),
  [oneKeySource, noPrivateKeys],
);

const apiKeys = withRules(
  z
    .strictObject({
      header: z
        .string()
        .max(64)
        .default('x-api-key')
        .describe('Header that carries the key. Default x-api-key.'),
      secretRef: z
        .strictObject({
          name: name.describe('Secret in the policy namespace.'),
          key: z.string().max(253).default('keys').describe('Data key holding `id:sha256hex` lines.'),
        })
        .optional()
        .describe('A Secret whose data holds the hashed keys, one `id:sha256hex` per line.'),
      keys: z
        .array(
          z.strictObject({
            id: z.string().min(1).max(128).describe('Key id; becomes the subject `apikey:<id>`.'),
            sha256: z
              .string()
              .regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits')
              .describe('SHA-256 of the key, hex. The key itself is never stored.'),
            scopes: z.array(z.string().max(128)).max(64).default([]).describe('Scopes granted to this key.'),
          }),
        )
        .max(1024)
        .optional()
        .describe('Hashed keys inline (standalone use).'),
    })
    .describe('API keys, stored only as SHA-256 hashes and compared in constant time.'),
  [
    {
      cel: 'has(self.secretRef) != has(self.keys)',
      message: 'exactly one of secretRef or keys must be set',
      check: (v) => (v.secretRef === undefined) !== (v.keys === undefined),
    },
  ],
);

export const authentication = z
  .strictObject({
    jwt: keyedList(jwtProvider, 8).default([]).describe('Trusted JWT issuers.'),
    apiKeys: apiKeys.optional(),
  })
  .describe('How subjects are identified. Requests with no credential are anonymous.');
