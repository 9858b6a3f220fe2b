/**
 * What the enforcer needs from outside may not be there when its pod starts: a cluster without
 * egress cannot reach a feed URL, a Secret may be created after the workload. The enforcer — and
 * so the app beside it — must start anyway, degraded in the way the policy says and saying so.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RecordingUpstream, startRecordingUpstream } from '../test/support/recording-upstream.ts';
import { checkSecurityRow } from '../test/support/security-doc.ts';
import { eventually, tempPolicy } from '../test/support/temp-policy.ts';
import { startTestEnforcer } from '../test/support/test-enforcer.ts';
import type { RunningEnforcer } from './enforcer.ts';

// `.invalid` never resolves (RFC 6761): the DNS failure of a cluster without egress.
const policy = (required: boolean) => `apiVersion: riskgate.dev/v1alpha1
kind: RiskPolicy
metadata: {name: shop, namespace: prod}
spec:
  selector: {matchLabels: {app: shop}}
  clientIdentity: {trustedProxies: [127.0.0.0/8]}
  authentication:
    apiKeys: {secretRef: {name: shop-api-keys}}
  routes:
    - {name: partner, methods: [GET], path: /partner/*, sensitivity: high, authentication: required}
  signals:
    ipReputation:
      feeds:
        - {name: blocklist, url: "https://feeds.riskgate.invalid/list.txt", required: ${required}}
`;

let app: RecordingUpstream;
const running: RunningEnforcer[] = [];

async function readyz(e: RunningEnforcer) {
  const res = await request(`${e.adminUrl}/readyz`);
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

async function get(e: RunningEnforcer, path: string, headers: Record<string, string> = {}) {
  const res = await request(`${e.trafficUrl}${path}`, { headers });
  await res.body.dump();
  return res.statusCode;
}

beforeAll(async () => {
  app = await startRecordingUpstream();
});

afterAll(async () => {
  for (const e of running) await e.close();
  await app?.close();
});

describe('an enforcer starting without what it reaches for', () => {
  it('starts and serves with an unreachable feed and a missing API-key Secret, and says so', async () => {
    const mounted = tempPolicy(policy(false));
    const secrets = join(mounted.dir, 'secrets');
    const e = await startTestEnforcer(mounted.file, app.url, { secretsDir: secrets });
    running.push(e);
    const ready = await readyz(e);
    expect(ready.status).toBe(200);
    expect(ready.body['staleFeeds']).toEqual(['blocklist']);
    expect(ready.body['problems']).toEqual([
      'authentication.apiKeys.secretRef: Secret shop-api-keys (key keys) is not mounted: every API key is refused',
    ]);
    expect(await get(e, '/products')).toBe(200);
    // Fail closed where a key is needed: no key is good while there are none.
    expect(await get(e, '/partner/orders', { 'x-api-key': 'anything' })).toBe(401);

    // The Secret arrives (the kubelet fills the optional volume): the next load takes it.
    mkdirSync(join(secrets, 'shop-api-keys'), { recursive: true });
    const key = 'pk_live_partner_1';
    writeFileSync(
      join(secrets, 'shop-api-keys', 'keys'),
      `partner:${createHash('sha256').update(key).digest('hex')}\n`,
    );
    // The watch sees it, as it sees the ConfigMap change, and recompiles.
    expect(await eventually(async () => ((await readyz(e)).body['problems'] as string[]).length === 0)).toBe(
      true,
    );
    expect(await get(e, '/partner/orders', { 'x-api-key': key })).toBe(200);
    mounted.remove();
  });

  it('holds /readyz back, but not the start, for a feed the policy marks required', async () => {
    const mounted = tempPolicy(policy(true));
    const e = await startTestEnforcer(mounted.file, app.url, { secretsDir: join(mounted.dir, 'secrets') });
    running.push(e);
    const ready = await readyz(e);
    expect(ready.status).toBe(503);
    expect(ready.body['missingRequiredFeeds']).toEqual(['blocklist']);
    expect(await eventually(async () => (await get(e, '/products')) === 200)).toBe(true);
    const health = await request(`${e.adminUrl}/healthz`);
    await health.body.dump();
    expect(health.statusCode).toBe(200);
    checkSecurityRow(
      'degraded-start',
      `started and served (200) with the feed stale and every API key refused (401), /readyz 200 naming both; the Secret's later arrival picked up by the file watch; with the feed required: /healthz 200, /readyz 503 \`missingRequiredFeeds: [blocklist]\``,
    );
    mounted.remove();
  });
});
