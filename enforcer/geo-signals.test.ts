/** The geo signals through a real enforcer, on MaxMind's own test databases. */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RecordingUpstream, startRecordingUpstream } from '../test/support/recording-upstream.ts';
import { type TempPolicy, tempPolicy } from '../test/support/temp-policy.ts';
import { startTestEnforcer } from '../test/support/test-enforcer.ts';
import { demoToken } from '../test/support/tokens.ts';
import type { RunningEnforcer } from './enforcer.ts';

const FIXTURES = `${process.cwd()}/test/fixtures/maxmind-db/test-data`;

const POLICY = `
apiVersion: riskgate.dev/v1alpha1
kind: RiskPolicy
metadata: {name: geo}
spec:
  selector: {}
  clientIdentity: {trustedProxies: [127.0.0.0/8]}
  authentication:
    jwt:
      - {name: demo, issuer: https://issuer.demo.riskgate.dev, audiences: [shop-api], keysFile: keys/demo-issuer.jwks.json, algorithms: [ES256]}
  signals:
    geoip:
      weight: 90
      cityDatabase: ${FIXTURES}/GeoLite2-City-Test.mmdb
      asnDatabase: ${FIXTURES}/GeoLite2-ASN-Test.mmdb
      deniedCountries: [CN]
      hostingAsnPenalty: 45
      hostingAsns: [29518]
    geoVelocity: {weight: 45, maxSpeedKmh: 1000}
  actions:
    challenge: {stepUp: {acrValues: [mfa]}}
`;

let upstream: RecordingUpstream;
let policy: TempPolicy;
let enforcer: RunningEnforcer;

async function send(ip: string, headers: Record<string, string> = {}) {
  const res = await request(`${enforcer.trafficUrl}/account`, {
    headers: { 'x-forwarded-for': ip, ...headers },
  });
  const text = await res.body.text();
  return { status: res.statusCode, code: text.startsWith('{"type"') ? JSON.parse(text).code : undefined };
}

beforeAll(async () => {
  upstream = await startRecordingUpstream();
  policy = tempPolicy(POLICY);
  enforcer = await startTestEnforcer(policy.file, upstream.url);
});

afterAll(async () => {
  await enforcer.close();
  await upstream.close();
  policy.remove();
});

describe('geo signals', () => {
  it('denies a denied country', async () => {
    expect(await send('175.16.199.0')).toEqual({ status: 403, code: 'RG_ERR_DENIED' });
    expect((await send('81.2.69.142')).status).toBe(200);
  });

  it('challenges a hosting ASN for anonymous clients', async () => {
    expect(await send('89.160.20.128')).toEqual({ status: 401, code: 'RG_ERR_PROOF_OF_WORK_REQUIRED' });
  });

  it('asks a token used in London and, a minute later, near Seattle to step up; a stepped-up token passes', async () => {
    const token = await demoToken({ sub: 'traveller' });
    expect((await send('81.2.69.142', { authorization: `Bearer ${token}` })).status).toBe(200);
    expect(await send('216.160.83.56', { authorization: `Bearer ${token}` })).toEqual({
      status: 401,
      code: 'RG_ERR_STEP_UP_REQUIRED',
    });
    const stepped = await demoToken({ sub: 'traveller', acr: 'mfa' });
    expect((await send('216.160.83.56', { authorization: `Bearer ${stepped}` })).status).toBe(200);
    // the accepted request moved the anchor: from here on Seattle is home
    expect((await send('216.160.83.56', { authorization: `Bearer ${token}` })).status).toBe(200);
  });

  it('counts reasons in metrics', async () => {
    const res = await request(`${enforcer.adminUrl}/metrics`);
    const text = await res.body.text();
    expect(text).toMatch(
      /riskgate_signal_hits_total\{signal="geoVelocity",reason="geo.impossible_travel"\} [1-9]/,
    );
    expect(text).toMatch(/riskgate_signal_hits_total\{signal="geoip",reason="geo.country_denied"\} 1/);
  });
});
