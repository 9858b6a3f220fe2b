/**
 * The config channel as an attacker in the cluster sees it: anyone who reaches Redis can publish
 * on `rg:{ns/policy}:config`. A real enforcer in "pod" mode, a real Redis; only a config the
 * operator signed for this policy, newer than the one running, may change what it enforces.
 */
import { Redis } from 'ioredis';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigSigner,
  configChannel,
  generateSignerKey,
  ISSUED_AT_FILE,
  SIGNER_KEY_FILE,
} from '../../contract/config-message.ts';
import { policyScope } from '../../contract/redis-keys.ts';
import { type RecordingUpstream, startRecordingUpstream } from '../../test/support/recording-upstream.ts';
import { type RedisServer, startRedisServer } from '../../test/support/redis-server.ts';
import { checkSecurityRow } from '../../test/support/security-doc.ts';
import { eventually, type TempPolicy, tempPolicy } from '../../test/support/temp-policy.ts';
import { startTestEnforcer } from '../../test/support/test-enforcer.ts';
import type { RunningEnforcer } from '../enforcer.ts';

const policyText = (mode: 'enforce' | 'monitor') => `apiVersion: riskgate.dev/v1alpha1
kind: RiskPolicy
metadata: {name: shop, namespace: prod}
spec:
  selector: {matchLabels: {app: shop}}
  mode: ${mode}
  clientIdentity: {trustedProxies: [127.0.0.0/8]}
  routes:
    - {name: admin, methods: [GET], path: /admin, sensitivity: critical, authentication: required}
`;

const ISSUED = 1_700_000_000_000;
const scope = policyScope('prod', 'shop');
const operatorKey = new ConfigSigner(generateSignerKey());
const strangerKey = new ConfigSigner(generateSignerKey());

let redis: RedisServer & { destroy?: () => Promise<void> };
let publisher: Redis;
let upstream: RecordingUpstream;
let mounted: TempPolicy;
let enforcer: RunningEnforcer;

/** What a pushed message changed: the mode the enforcer runs a moment later. */
async function push(message: string): Promise<'enforce' | 'monitor' | undefined> {
  await publisher.publish(configChannel(scope), message);
  // A refused message changes nothing; give an accepted one time to apply.
  await eventually(() => enforcer.holder.current?.mode === 'monitor', 500, 50);
  return enforcer.holder.current?.mode;
}

async function pushes(result: string): Promise<number> {
  const res = await request(`${enforcer.adminUrl}/metrics`);
  const text = await res.body.text();
  const line = text.split('\n').find((l) => l.startsWith(`riskgate_config_pushes_total{result="${result}"}`));
  return line ? Number(line.split(' ')[1]) : 0;
}

beforeAll(async () => {
  redis = await startRedisServer();
  publisher = new Redis(redis.url);
  upstream = await startRecordingUpstream();
  mounted = tempPolicy(policyText('enforce'), {
    [SIGNER_KEY_FILE]: operatorKey.publicKeyPem,
    [ISSUED_AT_FILE]: String(ISSUED),
  });
  enforcer = await startTestEnforcer(mounted.file, upstream.url, {
    redisUrl: redis.url,
    pod: { name: 'shop-1', namespace: 'prod' },
  });
  // Subscribed once a message reaches it: wait for Redis to count the subscriber.
  expect(
    await eventually(async () => {
      const [, n] = (await publisher.call('PUBSUB', 'NUMSUB', configChannel(scope))) as [string, number];
      return n > 0;
    }),
  ).toBe(true);
});

afterAll(async () => {
  await enforcer?.close();
  await upstream?.close();
  publisher?.disconnect();
  await redis?.destroy?.();
  mounted?.remove();
});

describe('the config channel', () => {
  it('refuses what an attacker can publish: plain YAML, another key, another policy, an old config', async () => {
    const monitor = policyText('monitor');
    // The old wire format: the policy document as it is.
    expect(await push(monitor)).toBe('enforce');
    expect(await pushes('malformed')).toBe(1);
    // Well-formed, signed by a key that is not the operator's.
    expect(await push(strangerKey.encode({ scope, issuedAt: ISSUED + 1, config: monitor }))).toBe('enforce');
    // The operator's signature, but on a message forged from parts: the config swapped in.
    const genuine = JSON.parse(
      operatorKey.encode({ scope, issuedAt: ISSUED + 1, config: policyText('enforce') }),
    );
    expect(await push(JSON.stringify({ ...genuine, config: monitor }))).toBe('enforce');
    expect(await pushes('bad-signature')).toBe(2);
    // Genuine, but for another policy (a replay from another namespace).
    expect(
      await push(
        operatorKey.encode({ scope: policyScope('staging', 'shop'), issuedAt: ISSUED + 1, config: monitor }),
      ),
    ).toBe('enforce');
    expect(await pushes('other-policy')).toBe(1);
    // Genuine, for this policy, but issued before the config the ConfigMap holds: a replay.
    expect(await push(operatorKey.encode({ scope, issuedAt: ISSUED - 1, config: monitor }))).toBe('enforce');
    expect(await pushes('not-newer')).toBe(1);
    expect(upstream.requests.length).toBe(0);
  });

  it('applies a config the operator signed for this policy, once, and never an older one after it', async () => {
    const newer = operatorKey.encode({ scope, issuedAt: ISSUED + 10, config: policyText('monitor') });
    expect(await push(newer)).toBe('monitor');
    expect(await pushes('applied')).toBe(1);
    // Back to enforce, signed and newer.
    await publisher.publish(
      configChannel(scope),
      operatorKey.encode({ scope, issuedAt: ISSUED + 20, config: policyText('enforce') }),
    );
    expect(await eventually(() => enforcer.holder.current?.mode === 'enforce')).toBe(true);
    // The monitor config, replayed word for word after it: refused.
    await publisher.publish(configChannel(scope), newer);
    await new Promise((r) => setTimeout(r, 300));
    expect(enforcer.holder.current?.mode).toBe('enforce');
    expect(await pushes('not-newer')).toBe(2);
    checkSecurityRow(
      'config-channel-forgery',
      `plain YAML, a stranger's signature, a re-assembled message, another policy's config and a replayed older one all refused and counted (riskgate_config_pushes_total); a newer signed config applied`,
    );
  });
});
