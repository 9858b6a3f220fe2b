/**
 * A RiskPolicy compiled for the request path: everything that can be decided at config time
 * (route table, thresholds per route, key lookups, IP range sets, the signals) already is.
 */
import type { ClientIpResolver } from '../context/client-ip.ts';
import type { ApiKeyStore } from '../credentials/api-keys.ts';
import type { DeviceSettings } from '../credentials/device.ts';
import type { TokenVerifier } from '../credentials/token-verifier.ts';
import type { FeedSource } from '../feeds/feed-source.ts';
import type { GeoLookup } from '../geo/geo-lookup.ts';
import type { IpRangeSet } from '../net/ip-range-set.ts';
import type { HeaderRules } from '../proxy/headers.ts';
import type { PathParameters } from '../routing/request-target.ts';
import type { CompiledRoute } from '../routing/route.ts';
import type { RouteTable } from '../routing/route-table.ts';
import type { CompiledSignal } from '../signals/signal.ts';

export type { CompiledRoute };

export interface CompiledActions {
  challenge: {
    kind: 'auto' | 'step-up' | 'proof-of-work';
    acrValues: readonly string[];
    maxAgeSeconds: number | undefined;
    minDifficulty: number;
    maxDifficulty: number;
    ttlMs: number;
    clearanceMs: number;
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
  /** What runs degraded, in words for /readyz and the log (a mounted Secret missing, …). */
  problems: string[];
  /** Files besides the policy it was compiled from (mounted Secrets): a change reloads it. */
  watchedFiles: string[];
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
  /** The signals the policy turns on, in the registry's order (signals/index.ts). */
  signals: readonly CompiledSignal[];
  /** Indices of the signals that plan state reads, and of those that learn: only they are asked. */
  planners: readonly number[];
  learners: readonly number[];
  /** Set when a signal needs the client's location. */
  geo: GeoLookup | undefined;
  /** Device identity and posture, when the device signal is on (read by the context stage). */
  device: DeviceSettings | undefined;
  /** Every signal's threat feeds. */
  feeds: readonly FeedSource[];
  allowCidrs: IpRangeSet;
  allowSubjects: ReadonlySet<string>;
  actions: CompiledActions;
  /** Stops background work (feed refresh) when the policy is replaced. */
  stop(): void;
}
