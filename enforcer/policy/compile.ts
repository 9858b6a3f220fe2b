/**
 * RiskPolicy → CompiledPolicy. Everything slow or fallible happens here, at config time: keys
 * are read, feeds loaded, routes and ranges built. A policy that fails to compile never
 * replaces the running one.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseDuration } from '../../api/duration.ts';
import type { RiskPolicy } from '../../api/riskpolicy.ts';
import { OVERRIDES } from '../../api/schema/routes.ts';
import { ClientIpResolver } from '../context/client-ip.ts';
import { FeedSource, type SharedFeeds } from '../feeds/feed-source.ts';
import { asnDatabase, cityDatabase, GeoLookup } from '../geo/geo-lookup.ts';
import { type ApiKeyEntry, ApiKeyStore, parseApiKeyLines } from '../identity/api-keys.ts';
import type { DeviceSettings } from '../identity/device.ts';
import { buildKeyLookup } from '../identity/key-source.ts';
import { type TokenIssuer, TokenVerifier } from '../identity/token-verifier.ts';
import { IpRangeSet } from '../net/ip-range-set.ts';
import { ALWAYS_GUARDED, type HeaderRules } from '../proxy/headers.ts';
import type { RouteTable } from '../routing/route-table.ts';
import { BehaviourSignal } from '../signals/behaviour.ts';
import { CredentialStuffingSignal } from '../signals/credential-stuffing.ts';
import { DeviceSignal } from '../signals/device.ts';
import { GeoVelocitySignal } from '../signals/geo-velocity.ts';
import { GeoIpSignal } from '../signals/geoip.ts';
import { IpReputationSignal } from '../signals/ip-reputation.ts';
import type { Signal } from '../signals/signal.ts';
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

export function policyHash(policy: RiskPolicy): string {
  return createHash('sha256').update(JSON.stringify(policy.spec)).digest('hex').slice(0, 16);
}

async function compileApiKeys(policy: RiskPolicy, secretsDir: string): Promise<CompiledPolicy['apiKeys']> {
  const spec = policy.spec.authentication.apiKeys;
  if (!spec) return undefined;
  let entries: ApiKeyEntry[];
  if (spec.keys) {
    entries = spec.keys;
  } else {
    const ref = spec.secretRef!;
    const path = join(secretsDir, ref.name, ref.key);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new PolicyCompileError(
        `authentication.apiKeys.secretRef: cannot read ${path} (${(err as NodeJS.ErrnoException).code})`,
      );
    }
    entries = parseApiKeyLines(text, path);
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
    routes = compileRouteTable(policy);
  } catch (err) {
    throw at('spec.routes', err);
  }

  const previousFeeds = new Map((options.previous?.feeds ?? []).map((f) => [f.spec.name, f]));
  const feeds: FeedSource[] = [];
  const signals: Signal[] = [];
  const reputation = spec.signals.ipReputation;
  if (reputation) {
    for (const f of reputation.feeds) {
      const source = new FeedSource(
        {
          name: f.name,
          url: f.url,
          file: f.file === undefined ? undefined : resolve(baseDir, f.file),
          format: f.format,
          refreshMs: parseDuration(f.refreshInterval),
          category: f.category,
          weight: f.weight ?? reputation.weight,
          ...(f.url && options.sharedFeeds
            ? { shared: options.sharedFeeds(policy.metadata.namespace ?? 'default', policy.metadata.name) }
            : {}),
        },
        options.onFeedChange,
      );
      const before = previousFeeds.get(f.name);
      if (before && before.spec.url === source.spec.url && before.spec.file === source.spec.file) {
        source.adopt(before);
      }
      feeds.push(source);
    }
    signals.push(new IpReputationSignal(feeds));
  }

  const geoSpec = spec.signals.geoip;
  const velocity = spec.signals.geoVelocity;
  let geo: GeoLookup | undefined;
  if (geoSpec || velocity || spec.signals.credentialStuffing) {
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
  if (geoSpec) {
    signals.push(
      new GeoIpSignal({
        weight: geoSpec.weight,
        allowedCountries: geoSpec.allowedCountries ? new Set(geoSpec.allowedCountries) : undefined,
        deniedCountries: geoSpec.deniedCountries ? new Set(geoSpec.deniedCountries) : undefined,
        hostingAsnPenalty: geoSpec.hostingAsnPenalty,
      }),
    );
  }
  if (velocity) signals.push(new GeoVelocitySignal(velocity.weight, velocity.maxSpeedKmh));

  let device: DeviceSettings | undefined;
  const deviceSpec = spec.signals.device;
  if (deviceSpec) {
    let posture: DeviceSettings['posture'];
    if (deviceSpec.posture) {
      const p = deviceSpec.posture;
      try {
        posture = {
          header: p.header.toLowerCase(),
          requiredClaims: Object.entries(p.requiredClaims),
          verifier: new TokenVerifier([
            {
              name: 'posture',
              issuer: p.issuer,
              audiences: [],
              algorithms: p.algorithms,
              clockToleranceSeconds: 30,
              scopeClaim: 'scope',
              keys: await buildKeyLookup(p, baseDir),
            },
          ]),
        };
      } catch (err) {
        throw at('spec.signals.device.posture', err);
      }
    }
    device = {
      idHeader: deviceSpec.idHeader?.toLowerCase(),
      idCookie: deviceSpec.idCookie,
      posture,
    };
    signals.push(new DeviceSignal(deviceSpec.weight, deviceSpec.newDevicePenalty));
  }

  let behaviour: BehaviourSignal | undefined;
  const b = spec.signals.behaviour;
  if (b) {
    // The population baseline survives a policy reload: it is the enforcer's experience.
    behaviour = new BehaviourSignal(
      b.weight,
      parseDuration(b.window),
      b.sensitivity,
      options.previous?.behaviour?.population,
    );
    signals.push(behaviour);
  }

  let credentialStuffing: CredentialStuffingSignal | undefined;
  const cs = spec.signals.credentialStuffing;
  if (cs) {
    credentialStuffing = new CredentialStuffingSignal({
      weight: cs.weight,
      windowMs: parseDuration(cs.window),
      thresholds: cs.thresholds,
    });
    signals.push(credentialStuffing);
  }

  const a = spec.actions;
  const compiled: CompiledPolicy = {
    name: policy.metadata.name,
    namespace: policy.metadata.namespace,
    hash: policyHash(policy),
    source: options.source,
    mode: spec.mode,
    clientIp: new ClientIpResolver(
      IpRangeSet.from(spec.clientIdentity.trustedProxies),
      spec.clientIdentity.forwardedHeader,
    ),
    routes,
    requestHandling: {
      pathParameters: spec.requestHandling.pathParameters,
      dropMethodParameter: !spec.requestHandling.allowOverrides.includes('_method'),
    },
    headerRules: headerRulesOf(policy),
    tokens: new TokenVerifier(issuers),
    tokenHeaders: [...new Set(spec.authentication.jwt.map((p) => p.header.toLowerCase()))],
    apiKeys: await compileApiKeys(policy, options.secretsDir ?? '/var/run/riskgate/secrets'),
    signals,
    geo,
    tracksVelocity: velocity !== undefined,
    device,
    behaviour,
    credentialStuffing,
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
      },
      restrict: {
        allowedMethods: new Set(a.restrict.allowedMethods),
        limit: a.restrict.rateLimit.requests,
        windowMs: parseDuration(a.restrict.rateLimit.per),
      },
      deny: { status: a.deny.status, retryAfterSeconds: a.deny.retryAfterSeconds },
    },
    stop: () => {
      for (const f of feeds) f.stop();
    },
  };

  // Feeds load before the policy goes live: a policy is ready only with its feeds.
  await Promise.all(feeds.map((f) => f.start()));
  const failed = feeds.filter((f) => !f.status().loaded);
  if (failed.length > 0) {
    compiled.stop();
    throw new PolicyCompileError(
      `spec.signals.ipReputation.feeds: ${failed.map((f) => `${f.spec.name}: ${f.status().lastError}`).join('; ')}`,
    );
  }
  return compiled;
}
