/**
 * A RiskPolicy compiled for the request path: everything that can be decided at config time
 * (route table, thresholds per route, key lookups, IP range sets, signal list) already is.
 */
import type { ClientIpResolver } from '../context/client-ip.ts';
import type { Thresholds } from '../decision/thresholds.ts';
import type { FeedSource } from '../feeds/feed-source.ts';
import type { GeoLookup } from '../geo/geo-lookup.ts';
import type { ApiKeyStore } from '../identity/api-keys.ts';
import type { DeviceSettings } from '../identity/device.ts';
import type { TokenVerifier } from '../identity/token-verifier.ts';
import type { IpRangeSet } from '../net/ip-range-set.ts';
import type { HeaderRules } from '../proxy/headers.ts';
import type { PathParameters } from '../routing/request-target.ts';
import type { RouteTable } from '../routing/route-table.ts';
import type { BehaviourSignal } from '../signals/behaviour.ts';
import type { CredentialStuffingSignal } from '../signals/credential-stuffing.ts';
import type { Signal } from '../signals/signal.ts';

export interface CompiledRoute {
  name: string;
  sensitivity: 'low' | 'medium' | 'high' | 'critical';
  thresholds: Thresholds;
  authRequired: boolean;
  requiredScopes: readonly string[];
  requiredClaims: readonly { claim: string; values: readonly string[] }[];
  login: { accountField: string; passwordField: string; failureStatuses: ReadonlySet<number> } | undefined;
  failMode: 'open' | 'closed';
  /** Set when this route refuses the request's method (unlistedMethods: refuse): the Allow header. */
  allowedMethods: string | undefined;
}

export interface CompiledActions {
  challenge: {
    kind: 'auto' | 'step-up' | 'proof-of-work';
    acrValues: readonly string[];
    maxAgeSeconds: number | undefined;
    minDifficulty: number;
    maxDifficulty: number;
    ttlMs: number;
  };
  restrict: { allowedMethods: ReadonlySet<string>; limit: number; windowMs: number };
  deny: { status: 403 | 404 | 429; retryAfterSeconds: number | undefined };
}

export interface CompiledPolicy {
  name: string;
  namespace: string | undefined;
  /** sha256 of the validated spec: what enforcers report and the operator compares. */
  hash: string;
  /** Where it came from, e.g. the file path. */
  source: string;
  mode: 'enforce' | 'monitor';
  clientIp: ClientIpResolver;
  routes: RouteTable<CompiledRoute>;
  /** How request targets are read before routing. */
  requestHandling: {
    pathParameters: PathParameters;
    /** Whether a `_method` query parameter is removed before forwarding. */
    dropMethodParameter: boolean;
  };
  /** Which inbound headers never reach the app. */
  headerRules: HeaderRules;
  tokens: TokenVerifier;
  /** Lower-case header names that may carry a bearer token. */
  tokenHeaders: readonly string[];
  apiKeys: { header: string; store: ApiKeyStore } | undefined;
  signals: readonly Signal[];
  /** Set when a signal needs the client's location. */
  geo: GeoLookup | undefined;
  /** Whether accepted requests move a subject's last-seen location (geo-velocity). */
  tracksVelocity: boolean;
  /** Behaviour baselines, when the behaviour signal is on. */
  behaviour: BehaviourSignal | undefined;
  /** Device identity and posture, when the device signal is on. */
  device: DeviceSettings | undefined;
  credentialStuffing: CredentialStuffingSignal | undefined;
  feeds: readonly FeedSource[];
  allowCidrs: IpRangeSet;
  allowSubjects: ReadonlySet<string>;
  actions: CompiledActions;
  /** Stops background work (feed refresh) when the policy is replaced. */
  stop(): void;
}
