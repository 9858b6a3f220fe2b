/** A policy route compiled for the request path: what a matched request is held to. */
import type { Sensitivity } from '../../api/riskpolicy.ts';
import type { Thresholds } from '../decision/thresholds.ts';

export interface LoginSettings {
  accountField: string;
  passwordField: string;
  failureStatuses: ReadonlySet<number>;
}

export interface CompiledRoute {
  name: string;
  sensitivity: Sensitivity;
  thresholds: Thresholds;
  authRequired: boolean;
  requiredScopes: readonly string[];
  requiredClaims: readonly { claim: string; values: readonly string[] }[];
  login: LoginSettings | undefined;
  failMode: 'open' | 'closed';
  /** Set when this route refuses the request's method (unlistedMethods: refuse): the Allow header. */
  allowedMethods: string | undefined;
}
