/**
 * The RiskPolicy API, riskgate.dev/v1alpha1: the one source of truth. The CRD in crds/ and the
 * field reference in docs/riskpolicy.md are generated from this file (`make crds`).
 */
import { z } from 'zod';
import { isCidr } from './cidr.ts';
import { keyedList, withRules } from './rule.ts';

export const GROUP = 'riskgate.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'RiskPolicy';
export const PLURAL = 'riskpolicies';

const DURATION = /^([0-9]{1,6}(ms|s|m|h))+$/;
const duration = (def: string) =>
  z
    .string()
    .max(32)
    .regex(DURATION, 'must be a duration such as 30s, 5m or 1h')
    .default(def)
    .describe(`A duration such as 30s, 5m or 1h. Default ${def}.`);

const cidr = z
  .string()
  .max(49)
  .refine(isCidr, 'must be an IPv4 or IPv6 address or CIDR, e.g. 10.0.0.0/8 or 2001:db8::/32')
  .meta({
    'x-kubernetes-validations': [
      {
        rule: 'isIP(self) || isCIDR(self)',
        message: 'must be an IPv4 or IPv6 address or CIDR, e.g. 10.0.0.0/8 or 2001:db8::/32',
      },
    ],
  });

const weight = (def: number) =>
  z
    .number()
    .int()
    .min(0)
    .max(100)
    .default(def)
    .describe(`Points this signal adds to the 0–100 score at full strength. Default ${def}.`);

const httpMethod = z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

const name = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a lower-case DNS label (a-z, 0-9, -)');

// ---------------------------------------------------------------------------------------------
// selector: the Kubernetes LabelSelector shape, as Istio's AuthorizationPolicy uses it.

const labelSelector = z
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

// ---------------------------------------------------------------------------------------------
// clientIdentity: where the client address comes from.

const clientIdentity = z
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

const keySource = {
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
type KeySource = {
  jwksUri?: string | undefined;
  keys?: unknown[] | undefined;
  keysFile?: string | undefined;
};
const oneKeySource = {
  cel: '(has(self.jwksUri) ? 1 : 0) + (has(self.keys) ? 1 : 0) + (has(self.keysFile) ? 1 : 0) == 1',
  message: 'exactly one of jwksUri, keys or keysFile must be set',
  check: (v: KeySource) => [v.jwksUri, v.keys, v.keysFile].filter((x) => x !== undefined).length === 1,
};
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const;
const noPrivateKeys = {
  cel: `!has(self.keys) || self.keys.all(k, ${PRIVATE_MEMBERS.map((m) => `!has(k.${m})`).join(' && ')})`,
  message: 'keys must be public keys: private members (d, p, q, dp, dq, qi, k) are not allowed',
  check: (v: KeySource) =>
    (v.keys ?? []).every((k) => !PRIVATE_MEMBERS.some((m) => Object.hasOwn(k as object, m))),
};

const algorithm = z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA']);

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

const authentication = z
  .strictObject({
    jwt: keyedList(jwtProvider, 8).default([]).describe('Trusted JWT issuers.'),
    apiKeys: apiKeys.optional(),
  })
  .describe('How subjects are identified. Requests with no credential are anonymous.');

// ---------------------------------------------------------------------------------------------
// routes

const sensitivity = z
  .enum(['low', 'medium', 'high', 'critical'])
  .describe(
    'How much a route matters. It tightens the decision thresholds: low +10, medium 0, high -15, critical -30 points.',
  );

const loginSettings = z
  .strictObject({
    accountField: z
      .string()
      .min(1)
      .max(128)
      .default('username')
      .describe('JSON or form body field that names the account. Default username.'),
    passwordField: z
      .string()
      .min(1)
      .max(128)
      .default('password')
      .describe(
        'Body field holding the secret. Only a salted hash of account + secret is kept in memory, to count repeated pairs.',
      ),
    failureStatuses: z
      .array(z.number().int().min(100).max(599))
      .min(1)
      .max(16)
      .default([401, 403])
      .describe('App response statuses that mean a failed attempt. Default [401, 403].'),
  })
  .describe('How credential-stuffing detection reads this login route.');

const route = withRules(
  z
    .strictObject({
      name: name.describe('Route name, used in logs and metric labels.'),
      methods: z.array(httpMethod).min(1).max(7).describe('HTTP methods this route matches.'),
      path: z
        .string()
        .min(1)
        .max(512)
        .regex(
          /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/%{}]*$/,
          'must be an absolute path template such as /orders/:id',
        )
        .describe('Path template: literal segments, `:param` for one segment, a trailing `*` for the rest.'),
      sensitivity: sensitivity.default('medium'),
      authentication: z
        .enum(['required', 'optional'])
        .default('optional')
        .describe('required: anonymous requests get 401. optional: anonymous requests are scored.'),
      requiredScopes: z
        .array(z.string().min(1).max(128))
        .max(32)
        .default([])
        .describe('All must be granted.'),
      requiredClaims: z
        .array(
          z.strictObject({
            claim: z.string().min(1).max(128),
            values: z
              .array(z.string().max(256))
              .min(1)
              .max(32)
              .describe('The claim must equal (or contain) one.'),
          }),
        )
        .max(16)
        .default([])
        .describe('Claims the verified token must carry.'),
      role: z
        .enum(['api', 'login'])
        .default('api')
        .describe('login: credential-stuffing detection watches this route.'),
      login: loginSettings.optional(),
      failMode: z.enum(['open', 'closed']).optional().describe('Overrides spec.failMode for this route.'),
    })
    .describe('A method + path template with its own rules.'),
  [
    {
      cel: "self.role == 'login' || !has(self.login)",
      message: 'login settings are only allowed on routes with role login',
      field: 'login',
      check: (v) => v.role === 'login' || v.login === undefined,
    },
    {
      cel: "self.authentication == 'required' || (size(self.requiredScopes) == 0 && size(self.requiredClaims) == 0)",
      message: 'requiredScopes and requiredClaims need authentication: required',
      field: 'authentication',
      check: (v) =>
        v.authentication === 'required' || (v.requiredScopes.length === 0 && v.requiredClaims.length === 0),
    },
  ],
);

// ---------------------------------------------------------------------------------------------
// signals

const feed = withRules(
  z
    .strictObject({
      name: name.describe('Feed name, used in reasons and metrics.'),
      url: z
        .url({ protocol: /^https?$/ })
        .max(2048)
        .optional()
        .describe('Fetched with conditional GET.'),
      file: z.string().max(1024).optional().describe('A local file, relative to the policy file.'),
      format: z
        .enum(['plain', 'netset', 'spamhaus-drop'])
        .default('plain')
        .describe(
          'plain: one IP or CIDR a line, # comments. netset: FireHOL. spamhaus-drop: `CIDR ; SBL id`.',
        ),
      refreshInterval: duration('1h'),
      category: z
        .string()
        .max(63)
        .default('malicious')
        .describe('What listed addresses are (botnet, tor, scanner, …); shows in reasons.'),
      weight: z
        .number()
        .int()
        .min(0)
        .max(100)
        .optional()
        .describe('Points a hit adds. Defaults to the signal weight.'),
    })
    .describe('A threat feed of IPs and CIDRs.'),
  [
    {
      cel: 'has(self.url) != has(self.file)',
      message: 'exactly one of url or file must be set',
      check: (v) => (v.url === undefined) !== (v.file === undefined),
    },
  ],
);

const countryCode = z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as DE');

const signals = z
  .strictObject({
    ipReputation: z
      .strictObject({
        weight: weight(90),
        feeds: keyedList(feed, 32).default([]),
      })
      .optional()
      .describe('IP reputation from threat feeds, compiled into a prefix trie.'),
    geoip: withRules(
      z
        .strictObject({
          weight: weight(50),
          cityDatabase: z
            .string()
            .max(1024)
            .optional()
            .describe('.mmdb city database. Default: the bundled one.'),
          asnDatabase: z
            .string()
            .max(1024)
            .optional()
            .describe('.mmdb ASN database. Default: the bundled one.'),
          allowedCountries: z
            .array(countryCode)
            .max(250)
            .optional()
            .describe('Only these countries are trusted.'),
          deniedCountries: z
            .array(countryCode)
            .max(250)
            .optional()
            .describe('These countries score full weight.'),
          hostingAsnPenalty: z
            .number()
            .int()
            .min(0)
            .max(100)
            .default(20)
            .describe('Points for a hosting/datacenter ASN on routes meant for people.'),
          hostingAsns: z.array(z.number().int().min(0)).max(4096).default([]).describe('Extra hosting ASNs.'),
        })
        .describe('Country and ASN of the client.'),
      [
        {
          cel: '!has(self.allowedCountries) || !has(self.deniedCountries)',
          message: 'set allowedCountries or deniedCountries, not both',
          check: (v) => v.allowedCountries === undefined || v.deniedCountries === undefined,
        },
      ],
    ).optional(),
    geoVelocity: z
      .strictObject({
        weight: weight(60),
        maxSpeedKmh: z
          .number()
          .int()
          .min(100)
          .max(20000)
          .default(1000)
          .describe('Fastest plausible travel. Default 1000 km/h, an airliner.'),
      })
      .optional()
      .describe('Impossible travel between a subject’s consecutive requests.'),
    device: withRules(
      z
        .strictObject({
          weight: weight(30),
          idHeader: z.string().max(64).optional().describe('Header carrying a stable device id.'),
          idCookie: z.string().max(64).optional().describe('Cookie carrying a stable device id.'),
          newDevicePenalty: z
            .number()
            .int()
            .min(0)
            .max(100)
            .default(15)
            .describe('Points for a device never seen for this subject.'),
          posture: withRules(
            z
              .strictObject({
                issuer: z.string().min(1).max(2048).describe('Required `iss` of posture tokens.'),
                header: z
                  .string()
                  .max(64)
                  .default('x-device-posture')
                  .describe('Header carrying the posture token. Default x-device-posture.'),
                ...keySource,
                algorithms: z.array(algorithm).min(1).max(9).default(['RS256', 'ES256', 'EdDSA']),
                requiredClaims: z
                  .record(z.string().max(128), z.string().max(256))
                  .default({})
                  .describe(
                    'Claims the posture token must carry, compared as strings, e.g. compliant: "true".',
                  ),
              })
              .describe(
                'A signed device-posture token (e.g. from an MDM). Missing: half weight; invalid or non-compliant: full weight.',
              ),
            [oneKeySource, noPrivateKeys],
          ).optional(),
        })
        .describe('Device identity and posture.'),
      [
        {
          cel: 'has(self.idHeader) || has(self.idCookie)',
          message: 'one of idHeader or idCookie must be set',
          check: (v) => v.idHeader !== undefined || v.idCookie !== undefined,
        },
      ],
    ).optional(),
    behaviour: z
      .strictObject({
        weight: weight(30),
        window: duration('24h').describe('How far back the learned baselines look. Default 24h.'),
        sensitivity: z.enum(['low', 'medium', 'high']).default('medium'),
      })
      .optional()
      .describe('Deviation from the subject’s and the route’s learned baselines.'),
    credentialStuffing: z
      .strictObject({
        weight: weight(70),
        window: duration('10m').describe('Sliding window for failure counts. Default 10m.'),
        thresholds: z
          .strictObject({
            perIp: z.number().int().min(1).max(1000000).default(10),
            perAsn: z.number().int().min(1).max(1000000).default(50),
            perAccount: z.number().int().min(1).max(1000000).default(5),
            perCredential: z.number().int().min(1).max(1000000).default(3),
            global: z.number().int().min(1).max(10000000).default(500),
            distinctAccountsPerIp: z.number().int().min(1).max(1000000).default(5),
          })
          .default({
            perIp: 10,
            perAsn: 50,
            perAccount: 5,
            perCredential: 3,
            global: 500,
            distinctAccountsPerIp: 5,
          })
          .describe('Failures in the window at which each view reaches full weight.'),
      })
      .optional()
      .describe('Failed logins counted per IP, ASN, account, credential and globally.'),
  })
  .describe('Risk signals. A signal that is not listed is off.');

// ---------------------------------------------------------------------------------------------
// thresholds and actions

const thresholds = withRules(
  z
    .strictObject({
      challenge: z.number().int().min(1).max(100).default(40),
      restrict: z.number().int().min(1).max(100).default(60),
      deny: z.number().int().min(1).max(100).default(80),
    })
    .describe('Score at or above which each decision applies, before route sensitivity tightens it.'),
  [
    {
      cel: 'self.challenge < self.restrict && self.restrict < self.deny',
      message: 'thresholds must be ordered: challenge < restrict < deny',
      check: (v) => v.challenge < v.restrict && v.restrict < v.deny,
    },
  ],
);

const actions = z
  .strictObject({
    challenge: z
      .strictObject({
        kind: z
          .enum(['auto', 'step-up', 'proof-of-work'])
          .default('auto')
          .describe('auto: step-up for authenticated subjects, proof-of-work for anonymous clients.'),
        stepUp: z
          .strictObject({
            acrValues: z.array(z.string().min(1).max(256)).min(1).max(8).default(['mfa']),
            maxAge: z
              .number()
              .int()
              .min(0)
              .max(86400)
              .optional()
              .describe('Seconds since authentication (RFC 9470).'),
          })
          .default({ acrValues: ['mfa'] }),
        proofOfWork: z
          .strictObject({
            minDifficulty: z
              .number()
              .int()
              .min(1)
              .max(30)
              .default(12)
              .describe('Leading zero bits at the threshold.'),
            maxDifficulty: z
              .number()
              .int()
              .min(1)
              .max(30)
              .default(20)
              .describe('Leading zero bits at score 100.'),
            ttl: duration('2m').describe('How long a solved challenge is valid.'),
          })
          .default({ minDifficulty: 12, maxDifficulty: 20, ttl: '2m' }),
      })
      .default({
        kind: 'auto',
        stepUp: { acrValues: ['mfa'] },
        proofOfWork: { minDifficulty: 12, maxDifficulty: 20, ttl: '2m' },
      }),
    restrict: z
      .strictObject({
        allowedMethods: z.array(httpMethod).min(1).max(7).default(['GET', 'HEAD', 'OPTIONS']),
        rateLimit: z
          .strictObject({
            requests: z.number().int().min(1).max(1000000).default(30),
            per: duration('1m'),
          })
          .default({ requests: 30, per: '1m' }),
      })
      .default({ allowedMethods: ['GET', 'HEAD', 'OPTIONS'], rateLimit: { requests: 30, per: '1m' } }),
    deny: z
      .strictObject({
        status: z.literal([403, 404, 429]).default(403).describe('Status of a denial. Default 403.'),
        retryAfterSeconds: z.number().int().min(0).max(86400).optional(),
      })
      .default({ status: 403 }),
  })
  .describe('What each decision does to the request.');

const allowList = z
  .strictObject({
    cidrs: z
      .array(cidr)
      .max(256)
      .default([])
      .describe('Clients in these ranges are never challenged or denied.'),
    subjects: z
      .array(z.string().min(1).max(256))
      .max(256)
      .default([])
      .describe('Subjects never challenged or denied.'),
  })
  .describe('Exemptions. Allow-lists win over every signal.');

// ---------------------------------------------------------------------------------------------

export const riskPolicySpec = z
  .strictObject({
    selector: labelSelector,
    mode: z
      .enum(['enforce', 'monitor'])
      .default('enforce')
      .describe('enforce: act on decisions. monitor: score, log and count, never block.'),
    failMode: z
      .enum(['open', 'closed'])
      .default('open')
      .describe(
        'When shared state (Redis) is unavailable: open decides from local state; closed answers 503 to requests that needed it.',
      ),
    defaultSensitivity: sensitivity
      .default('medium')
      .describe('Sensitivity of requests that match no route.'),
    clientIdentity: clientIdentity.default({ trustedProxies: [], forwardedHeader: 'x-forwarded-for' }),
    authentication: authentication.default({ jwt: [] }),
    routes: keyedList(route, 256)
      .default([])
      .describe('Routes, matched on method and path; the most specific template wins.'),
    signals: signals.default({}),
    thresholds: thresholds.default({ challenge: 40, restrict: 60, deny: 80 }),
    actions: actions.default({
      challenge: {
        kind: 'auto',
        stepUp: { acrValues: ['mfa'] },
        proofOfWork: { minDifficulty: 12, maxDifficulty: 20, ttl: '2m' },
      },
      restrict: { allowedMethods: ['GET', 'HEAD', 'OPTIONS'], rateLimit: { requests: 30, per: '1m' } },
      deny: { status: 403 },
    }),
    allowList: allowList.default({ cidrs: [], subjects: [] }),
    networkPolicy: z
      .strictObject({
        enabled: z
          .boolean()
          .default(true)
          .describe(
            'Keep a NetworkPolicy that admits traffic to the selected pods only on the enforcer ports, so the app cannot be reached around the enforcer.',
          ),
      })
      .default({ enabled: true })
      .describe('Bypass protection for the selected pods (operator).'),
  })
  .describe('Desired state of a RiskPolicy.');

const condition = z
  .strictObject({
    type: z.string().max(316),
    status: z.enum(['True', 'False', 'Unknown']),
    observedGeneration: z.number().int().min(0).optional(),
    lastTransitionTime: z.string().max(64),
    reason: z.string().max(1024),
    message: z.string().max(32768),
  })
  .describe('A metav1.Condition.');

export const riskPolicyStatus = z
  .strictObject({
    observedGeneration: z.number().int().min(0).optional().describe('The generation the status describes.'),
    conditions: z.array(condition).max(16).optional().describe('Ready, and why not.'),
    configHash: z.string().max(128).optional().describe('Hash of the compiled config enforcers should run.'),
    enforcers: z
      .strictObject({
        selected: z.number().int().min(0).default(0).describe('Pods this policy selects.'),
        upToDate: z.number().int().min(0).default(0).describe('Enforcers running configHash.'),
      })
      .optional(),
  })
  .describe('Observed state, written by the operator.');

export const riskPolicy = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(KIND),
  metadata: z.looseObject({
    name: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a DNS subdomain name'),
    namespace: z.string().max(63).optional(),
  }),
  spec: riskPolicySpec,
  status: riskPolicyStatus.optional(),
});

export type RiskPolicy = z.output<typeof riskPolicy>;
export type RiskPolicyInput = z.input<typeof riskPolicy>;
export type RiskPolicySpec = z.output<typeof riskPolicySpec>;
export type Route = RiskPolicySpec['routes'][number];
export type Feed = NonNullable<RiskPolicySpec['signals']['ipReputation']>['feeds'][number];
export type JwtProvider = RiskPolicySpec['authentication']['jwt'][number];
export type Sensitivity = Route['sensitivity'];
