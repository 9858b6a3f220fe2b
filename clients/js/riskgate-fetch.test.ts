/**
 * The client helper from Node, against a real enforcer: a challenged call is solved in a worker
 * thread and retried once; a step-up challenge reaches the app's callback; a stream body is not
 * replayed. (From a browser: test/browser/challenge.browser.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEnforcer } from '../../enforcer/enforcer.ts';
import { type StreamingApp, startStreamingApp } from '../../test/support/protocol-apps.ts';
import { type TempPolicy, tempPolicy } from '../../test/support/temp-policy.ts';
import { startTestEnforcer } from '../../test/support/test-enforcer.ts';
import { demoToken } from '../../test/support/tokens.ts';
// @ts-expect-error: a plain JavaScript module, published as it is
import { challengeOf, withRiskgate } from './riskgate-fetch.js';

const POLICY = `
apiVersion: riskgate.dev/v1alpha1
kind: RiskPolicy
metadata: {name: client-helper}
spec:
  selector: {}
  clientIdentity: {trustedProxies: [127.0.0.0/8]}
  authentication:
    jwt:
      - {name: demo, issuer: https://issuer.demo.riskgate.dev, audiences: [shop-api], keysFile: keys/demo-issuer.jwks.json, algorithms: [ES256]}
  signals:
    ipReputation:
      weight: 50
      feeds: [{name: suspicious, file: feed.txt, format: plain, category: proxy}]
  thresholds: {challenge: 40, restrict: 90, deny: 95}
  actions:
    challenge:
      stepUp: {acrValues: [mfa, hwk], maxAge: 300}
      proofOfWork: {minDifficulty: 10, maxDifficulty: 12}
`;

let app: StreamingApp;
let policy: TempPolicy;
let enforcer: RunningEnforcer;

beforeAll(async () => {
  app = await startStreamingApp();
  policy = tempPolicy(POLICY, { 'feed.txt': '203.0.113.0/24\n' });
  enforcer = await startTestEnforcer(policy.file, app.url);
});

afterAll(async () => {
  await enforcer?.close();
  await app?.close();
  policy?.remove();
});

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

describe('withRiskgate from Node', () => {
  it('solves a proof-of-work challenge and retries once: fetch → 401 → solved → 200', async () => {
    const calls: number[] = [];
    const counting: Fetch = async (input, init) => {
      const res = await fetch(input, init);
      calls.push(res.status);
      return res;
    };
    const challenged: number[] = [];
    const api = withRiskgate(counting, {
      onChallenge: ({ difficulty }: { difficulty: number }) => challenged.push(difficulty),
    }) as Fetch;
    const before = app.requests.length;
    const res = await api(`${enforcer.trafficUrl}/upload`, {
      method: 'POST',
      body: 'order=1',
      headers: { 'x-forwarded-for': '203.0.113.9' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ bytes: 7 });
    expect(calls).toEqual([401, 200]);
    expect(challenged).toEqual([expect.any(Number)]);
    // The app saw the request once: the challenged attempt never reached it.
    expect(app.requests.length).toBe(before + 1);
  });

  it('passes everything else through untouched', async () => {
    const api = withRiskgate(fetch) as Fetch;
    expect((await api(`${enforcer.trafficUrl}/plain`)).status).toBe(200);
  });

  it('a step-up challenge reaches onStepUp with the RFC 9470 parameters, and the 401 is returned', async () => {
    const token = await demoToken({ sub: 'alice' });
    const seen: unknown[] = [];
    const api = withRiskgate(fetch, {
      onStepUp: (p: { acrValues: string[]; maxAge: number }) =>
        seen.push({ acrValues: p.acrValues, maxAge: p.maxAge }),
    }) as Fetch;
    const res = await api(`${enforcer.trafficUrl}/account`, {
      headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': '203.0.113.10' },
    });
    expect(res.status).toBe(401);
    expect(seen).toEqual([{ acrValues: ['mfa', 'hwk'], maxAge: 300 }]);
  });

  it('a stream body is not replayed: the challenge is returned as it is', async () => {
    const api = withRiskgate(fetch) as Fetch;
    const body = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode('x'));
        c.close();
      },
    });
    const res = await api(`${enforcer.trafficUrl}/upload`, {
      method: 'POST',
      body,
      duplex: 'half',
      headers: { 'x-forwarded-for': '203.0.113.11' },
    } as RequestInit);
    expect(res.status).toBe(401);
  });

  it('reads challenge parameters, quoted or not', () => {
    expect(challengeOf('PoW realm="riskgate", difficulty="12", challenge="v2.a.b:c"', 'PoW')).toEqual({
      realm: 'riskgate',
      difficulty: '12',
      challenge: 'v2.a.b:c',
    });
    expect(
      challengeOf('Bearer error="insufficient_user_authentication", max_age=300', 'Bearer'),
    ).toMatchObject({
      max_age: '300',
    });
    expect(challengeOf('Basic realm="x"', 'PoW')).toBeUndefined();
  });
});
