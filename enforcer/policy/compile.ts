/**
 * RiskPolicy → CompiledPolicy. Everything slow or fallible happens here, at config time: keys
 * are read, feeds loaded, routes and ranges built. A policy that fails to compile never
 * replaces the running one.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseDuration } from '../../api/duration.ts';
import type { RiskPolicy } from '../../api/riskpolicy.ts';
import { OVERRIDES } from '../../api/schema/routes.ts';
import { policyHash } from '../../contract/policy-hash.ts';
import { SECRETS_DIR } from '../../contract/sidecar.ts';
import { ClientIpResolver } from '../context/client-ip.ts';
import { type ApiKeyEntry, ApiKeyStore, parseApiKeyLines } from '../credentials/api-keys.ts';
import { compileDeviceIdentity, type DeviceSettings } from '../credentials/device.ts';
import { buildKeyLookup } from '../credentials/key-source.ts';
import { type TokenIssuer, TokenVerifier } from '../credentials/token-verifier.ts';
import type { FeedSource, SharedFeeds } from '../feeds/feed-source.ts';
import { asnDatabase, cityDatabase, GeoLookup } from '../geo/geo-lookup.ts';
import { IpRangeSet } from '../net/ip-range-set.ts';
import { ALWAYS_GUARDED, type HeaderRules } from '../proxy/headers.ts';
import type { RouteTable } from '../routing/route-table.ts';
import { SIGNALS } from '../signals/index.ts';
import type { CompiledSignal } from '../signals/signal.ts';
import { compileRouteTable } from './compile-routes.ts';
import type { CompiledPolicy, CompiledRoute } from './compiled-policy.ts';

export class PolicyCompileError extends Error {
  readonly code = 'RG_ERR_POLICY_COMPILE';
}

export interface CompileOptions {
  /** Where the policy came from; relative key and feed files resolve against its folder. */
  source: string;
  /** Folder holding mounted Secrets: <dir>/<secret>/<key>. */
  secretsDir?: string;
  /** A running policy whose feed lists can be reused instead of refetched. */
  previous?: CompiledPolicy | undefined;
  /** Called when a feed's list changes after compile. */
  onFeedChange?: (feed: FeedSource) => void;
  /** Feeds shared by the operator (in a cluster), keyed by this policy. */
  sharedFeeds?: (namespace: string, policy: string) => SharedFeeds;
}

/** Override headers the policy does not allow are dropped; the headers it reads are guarded. */
function headerRulesOf(policy: RiskPolicy): HeaderRules {
  const spec = policy.spec;
  const allowed = new Set<string>(spec.requestHandling.allowOverrides);
  const guarded = new Set(ALWAYS_GUARDED);
  guarded.add(spec.clientIdentity.forwardedHeader);
  for (const jwt of spec.authentication.jwt) guarded.add(jwt.header.toLowerCase());
  if (spec.authentication.apiKeys) guarded.add(spec.authentication.apiKeys.header.toLowerCase());
  const device = spec.signals.device;
  if (device?.idHeader) guarded.add(device.idHeader.toLowerCase());
  if (device?.posture) guarded.add(device.posture.header.toLowerCase());
  return {
    dropped: new Set(OVERRIDES.filter((o) => o !== '_method' && !allowed.has(o))),
    guarded,
  };
}

/**
 * A Secret the policy names may not exist (yet): the enforcer still starts, refuses every API key
 * (fail closed for what needs one, open for nothing) and says so, rather than keeping the pod
 * from starting. A file that exists but does not parse is an error, as in any policy.
 */
async function compileApiKeys(
  policy: RiskPolicy,
  secretsDir: string,
  problems: string[],
  watched: string[],
): Promise<CompiledPolicy['apiKeys']> {
  const spec = policy.spec.authentication.apiKeys;
  if (!spec) return undefined;
  let entries: ApiKeyEntry[];
  if (spec.keys) {
    entries = spec.keys;
  } else {
    const ref = spec.secretRef!;
    const path = join(secretsDir, ref.name, ref.key);
    watched.push(path);
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') {
        throw new PolicyCompileError(`authentication.apiKeys.secretRef: cannot read ${path} (${code})`);
      }
      problems.push(
        `authentication.apiKeys.secretRef: Secret ${ref.name} (key ${ref.key}) is not mounted: every API key is refused`,
      );
    }
    entries = text === undefined ? [] : parseApiKeyLines(text, path);
  }
  return { header: spec.header.toLowerCase(), store: new ApiKeyStore(entries) };
}

export async function compilePolicy(policy: RiskPolicy, options: CompileOptions): Promise<CompiledPolicy> {
  const spec = policy.spec;
  const baseDir = dirname(resolve(options.source));
  const at = (field: string, err: unknown) =>
    new PolicyCompileError(`${field}: ${err instanceof Error ? err.message : String(err)}`);

  const issuers: TokenIssuer[] = [];
  for (const [i, p] of spec.authentication.jwt.entries()) {
    try {
      issuers.push({
        name: p.name,
        issuer: p.issuer,
        audiences: p.audiences,
        algorithms: p.algorithms,
        clockToleranceSeconds: Math.round(parseDuration(p.clockSkew) / 1000),
        scopeClaim: p.scopeClaim,
        keys: await buildKeyLookup(p, baseDir),
      });
    } catch (err) {
      throw at(`spec.authentication.jwt[${i}]`, err);
    }
  }

  let routes: RouteTable<CompiledRoute>;
  try {
    routes = await compileRouteTable(policy);
  } catch (err) {
    throw at('spec.routes', err);
  }

  // Context the signals share: where the client is, and which device it uses.
  const enabled = SIGNALS.filter((d) => spec.signals[d.name] !== undefined);
  let geo: GeoLookup | undefined;
  if (enabled.some((d) => d.usesLocation)) {
    const geoSpec = spec.signals.geoip;
    try {
      geo = new GeoLookup(
        cityDatabase(geoSpec?.cityDatabase, baseDir),
        asnDatabase(geoSpec?.asnDatabase, baseDir),
        geoSpec?.hostingAsns ?? [],
      );
    } catch (err) {
      throw at('spec.signals.geoip', err);
    }
  }
  let device: DeviceSettings | undefined;
  if (spec.signals.device) {
    try {
      device = await compileDeviceIdentity(spec.signals.device, baseDir);
    } catch (err) {
      throw at('spec.signals.device.posture', err);
    }
  }

  const sharedFeeds = options.sharedFeeds?.(policy.metadata.namespace ?? 'default', policy.metadata.name);
  const signals: CompiledSignal[] = [];
  for (const definition of enabled) {
    const signalSpec = spec.signals[definition.name]!;
    try {
      signals.push(
        await definition.compile(signalSpec as never, {
          baseDir,
          previous: options.previous?.signals.find((s) => s.name === definition.name),
          sharedFeeds,
          onFeedChange: options.onFeedChange,
        }),
      );
    } catch (err) {
      for (const s of signals) s.stop?.();
      throw at(`spec.signals.${definition.name}`, err);
    }
  }
  const feeds = signals.flatMap((s) => s.feeds ?? []);

  const a = spec.actions;
  const problems: string[] = [];
  const watchedFiles: string[] = [];
  const compiled: CompiledPolicy = {
    name: policy.metadata.name,
    namespace: policy.metadata.namespace,
    hash: policyHash(policy),
    source: options.source,
    mode: spec.mode,
    problems,
    watchedFiles,
    clientIp: new ClientIpResolver(
      IpRangeSet.from(spec.clientIdentity.trustedProxies),
      spec.clientIdentity.forwardedHeader,
      spec.clientIdentity.ipv6PrefixLength,
      spec.clientIdentity.hiddenClients,
    ),
    routes,
    requestHandling: {
      pathParameters: spec.requestHandling.pathParameters,
      dropMethodParameter: !spec.requestHandling.allowOverrides.includes('_method'),
    },
    headerRules: headerRulesOf(policy),
    tokens: new TokenVerifier(issuers),
    tokenHeaders: [...new Set(spec.authentication.jwt.map((p) => p.header.toLowerCase()))],
    apiKeys: await compileApiKeys(policy, options.secretsDir ?? SECRETS_DIR, problems, watchedFiles),
    signals,
    planners: signals.flatMap((s, i) => (s.plan ? [i] : [])),
    learners: signals.flatMap((s, i) => (s.learn ? [i] : [])),
    geo,
    device,
    feeds,
    allowCidrs: IpRangeSet.from(spec.allowList.cidrs),
    allowSubjects: new Set(spec.allowList.subjects),
    actions: {
      challenge: {
        kind: a.challenge.kind,
        acrValues: a.challenge.stepUp.acrValues,
        maxAgeSeconds: a.challenge.stepUp.maxAge,
        minDifficulty: a.challenge.proofOfWork.minDifficulty,
        maxDifficulty: Math.max(a.challenge.proofOfWork.minDifficulty, a.challenge.proofOfWork.maxDifficulty),
        ttlMs: parseDuration(a.challenge.proofOfWork.ttl),
        clearanceMs: parseDuration(a.challenge.proofOfWork.clearance),
      },
      restrict: {
        allowedMethods: new Set(a.restrict.allowedMethods),
        limit: a.restrict.rateLimit.requests,
        windowMs: parseDuration(a.restrict.rateLimit.per),
      },
      deny: { status: a.deny.status, retryAfterSeconds: a.deny.retryAfterSeconds },
    },
    stop: () => {
      for (const s of signals) s.stop?.();
    },
  };

  // Feeds load before the policy goes live. One that cannot be loaded runs empty and stale and is
  // retried: an unreachable feed server must not keep the enforcer, or the app, from starting
  // (a feed marked required holds /readyz instead).
  await Promise.all(feeds.map((f) => f.start()));
  return compiled;
}
