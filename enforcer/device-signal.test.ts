/** Device posture and new devices through a real enforcer. */
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RecordingUpstream, startRecordingUpstream } from '../test/support/recording-upstream.ts';
import { type TempPolicy, tempPolicy } from '../test/support/temp-policy.ts';
import { startTestEnforcer } from '../test/support/test-enforcer.ts';
import { demoToken } from '../test/support/tokens.ts';
import type { RunningEnforcer } from './enforcer.ts';

let upstream: RecordingUpstream;
let policy: TempPolicy;
let enforcer: RunningEnforcer;
let postureKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

async function posture(claims: Record<string, unknown>, issuer = 'https://mdm.example') {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: 'mdm-1' })
    .setIssuer(issuer)
    .setSubject('device')
    .setExpirationTime('1h')
    .sign(postureKey);
}

async function send(headers: Record<string, string>) {
  const res = await request(`${enforcer.trafficUrl}/account`, { headers });
  const text = await res.body.text();
  return { status: res.statusCode, code: text.startsWith('{"type"') ? JSON.parse(text).code : undefined };
}

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  postureKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'mdm-1' };
  upstream = await startRecordingUpstream();
  policy = tempPolicy(`
apiVersion: riskgate.dev/v1alpha1
kind: RiskPolicy
metadata: {name: devices}
spec:
  selector: {}
  authentication:
    jwt:
      - {name: demo, issuer: https://issuer.demo.riskgate.dev, audiences: [shop-api], keysFile: keys/demo-issuer.jwks.json, algorithms: [ES256]}
  signals:
    device:
      weight: 45
      idCookie: device_id
      newDevicePenalty: 45
      posture:
        issuer: https://mdm.example
        keys: [${JSON.stringify(jwk)}]
        algorithms: [ES256]
        requiredClaims: {compliant: "true"}
  actions:
    challenge: {stepUp: {acrValues: [mfa]}}
`);
  enforcer = await startTestEnforcer(policy.file, upstream.url);
});

afterAll(async () => {
  await enforcer.close();
  await upstream.close();
  policy.remove();
});

describe('device signal', () => {
  it('passes a compliant device, challenges a non-compliant, forged or other-issuer posture', async () => {
    const token = await demoToken({ sub: 'ivy' });
    const auth = { authorization: `Bearer ${token}`, cookie: 'theme=dark; device_id=ivy-laptop' };
    expect((await send({ ...auth, 'x-device-posture': await posture({ compliant: true }) })).status).toBe(
      200,
    );
    for (const bad of [
      await posture({ compliant: false }),
      await posture({ compliant: true }, 'https://evil.example'),
      'garbage.token.here',
    ]) {
      expect(await send({ ...auth, 'x-device-posture': bad })).toEqual({
        status: 401,
        code: 'RG_ERR_STEP_UP_REQUIRED',
      });
    }
  });

  it('half weight for a missing posture token: allowed on a medium route', async () => {
    const token = await demoToken({ sub: 'jack' });
    expect((await send({ authorization: `Bearer ${token}`, cookie: 'device_id=jack-phone' })).status).toBe(
      200,
    );
  });

  it('enrols the first device, then challenges a device the subject never used', async () => {
    const token = await demoToken({ sub: 'kim' });
    const compliant = await posture({ compliant: true });
    const on = (device: string) =>
      send({
        authorization: `Bearer ${token}`,
        cookie: `device_id=${device}`,
        'x-device-posture': compliant,
      });
    expect((await on('kim-laptop')).status).toBe(200);
    expect((await on('kim-laptop')).status).toBe(200);
    expect(await on('unknown-box')).toEqual({ status: 401, code: 'RG_ERR_STEP_UP_REQUIRED' });
  });
});
