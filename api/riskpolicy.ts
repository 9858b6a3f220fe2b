/**
 * The RiskPolicy API, riskgate.dev/v1alpha1: the one source of truth. The CRD in crds/ and the
 * field reference in docs/riskpolicy.md are generated from this file and api/schema/ (`make crds`).
 */
import { z } from 'zod';
import { withoutRouteConflicts } from './route-conflicts.ts';
import { keyedList } from './rule.ts';
import { actions, allowList, thresholds } from './schema/decisions.ts';
import { authentication, clientIdentity, labelSelector, networkPolicyPeer } from './schema/identity.ts';
import { requestHandling, route, sensitivity } from './schema/routes.ts';
import { signals } from './schema/signals.ts';

export const GROUP = 'riskgate.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'RiskPolicy';
export const PLURAL = 'riskpolicies';

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
    clientIdentity: clientIdentity.prefault({}),
    authentication: authentication.prefault({}),
    routes: withoutRouteConflicts(keyedList(route, 1024))
      .default([])
      .describe('Routes, matched on method and path; the most specific template wins.'),
    requestHandling: requestHandling.prefault({}),
    signals: signals.prefault({}),
    thresholds: thresholds.prefault({}),
    actions: actions.prefault({}),
    allowList: allowList.prefault({}),
    networkPolicy: z
      .strictObject({
        enabled: z
          .boolean()
          .default(true)
          .describe(
            'Keep a NetworkPolicy that admits traffic to the pods this policy protects (those with its enforcer injected) only on the enforcer ports, so the app cannot be reached around the enforcer.',
          ),
        from: z
          .array(networkPolicyPeer)
          .max(32)
          .optional()
          .describe(
            'Who may reach the enforcer’s traffic port, as NetworkPolicy peers. Unset: anyone — NetworkPolicies add up, so a stricter one of yours is widened unless you list its sources here.',
          ),
        adminFrom: z
          .array(networkPolicyPeer)
          .max(32)
          .optional()
          .describe('Who may reach the admin port (metrics, probes are the kubelet’s). Unset: anyone.'),
      })
      .prefault({})
      .describe('Bypass protection for the protected pods (operator).'),
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
    conditions: z
      .array(condition)
      .max(16)
      .optional()
      .describe(
        'Ready (compiled and published), FeedsReady (URL feeds fetched), Conflict (another policy selects the same pods).',
      ),
    configHash: z.string().max(128).optional().describe('Hash of the compiled config enforcers should run.'),
    enforcers: z
      .strictObject({
        selected: z.number().int().min(0).default(0).describe('Pods this policy selects.'),
        upToDate: z
          .number()
          .int()
          .min(0)
          .default(0)
          .describe('Enforcers of this policy (pods it was injected into) running configHash.'),
        unprotected: z
          .number()
          .int()
          .min(0)
          .default(0)
          .describe(
            'Selected pods with no enforcer: created before the policy, in a namespace not opted in, or admitted while the webhook was unavailable. Recreate them to inject it.',
          ),
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
