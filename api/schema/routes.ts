/** Routes: method + path templates with their sensitivity, rules and role. */
import { z } from 'zod';
import { withRules } from '../rule.ts';
import { httpMethod, name } from './fields.ts';

// ---------------------------------------------------------------------------------------------
// routes

export const sensitivity = z
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

export const route = withRules(
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
      unlistedMethods: z
        .enum(['protect', 'refuse', 'default'])
        .default('protect')
        .describe(
          'Methods not in `methods`, on this path. protect: held to this route’s rules, at no less than the default sensitivity (a CORS preflight is not asked to authenticate). refuse: 405 with Allow. default: matched by the default route.',
        ),
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
      // Written for items as stored: the CRD leaves list-item defaults to the operator (crd.ts).
      cel: "(has(self.role) && self.role == 'login') || !has(self.login)",
      message: 'login settings are only allowed on routes with role login',
      field: 'login',
      check: (v) => v.role === 'login' || v.login === undefined,
    },
    {
      cel: "(has(self.authentication) && self.authentication == 'required') || ((!has(self.requiredScopes) || size(self.requiredScopes) == 0) && (!has(self.requiredClaims) || size(self.requiredClaims) == 0))",
      message: 'requiredScopes and requiredClaims need authentication: required',
      field: 'authentication',
      check: (v) =>
        v.authentication === 'required' || (v.requiredScopes.length === 0 && v.requiredClaims.length === 0),
    },
  ],
);

/** Override headers and parameters that make an app read another method or URL than the one sent. */
export const OVERRIDES = [
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'x-original-method',
  'x-original-url',
  'x-rewrite-url',
  '_method',
] as const;

export const requestHandling = z
  .strictObject({
    pathParameters: z
      .enum(['strip', 'refuse'])
      .default('strip')
      .describe(
        'Path parameters (`/transfer;jsessionid=x`), which servlet containers drop before routing. strip: removed before matching and from the forwarded path. refuse: 400.',
      ),
    allowOverrides: z
      .array(z.enum(OVERRIDES))
      .max(OVERRIDES.length)
      .default([])
      .describe(
        'Method and URL override headers (and the `_method` query parameter) to pass to the app. Every other one is dropped, so the app acts on the method and path the enforcer decided on.',
      ),
  })
  .describe('How the enforcer reads request targets before routing.');
