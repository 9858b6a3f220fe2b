/**
 * The automation signal through a real enforcer: headers real browsers send (as Chromium sent
 * them in test/browser), against scripts that present as browsers, HTTP libraries, HTTP/1.0 and
 * crawlers. Attacker first: a fake Googlebot, a Chrome user agent without Chrome's headers, a
 * library without a token. Owner never harmed: alone it only challenges; a token holder's script
 * is not a bot; a verified crawler from a hosting network is not penalised.
 */
import { connect } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StreamingApp, startStreamingApp } from '../test/support/protocol-apps.ts';
import { type TempPolicy, tempPolicy } from '../test/support/temp-policy.ts';
import { startTestEnforcer } from '../test/support/test-enforcer.ts';
import { demoToken } from '../test/support/tokens.ts';
import type { RunningEnforcer } from './enforcer.ts';

// As Google publishes it (developers.google.com/static/search/apis/ipranges/googlebot.json).
const GOOGLEBOT = JSON.stringify({
  creationTime: '2026-11-28T14:46:08.000000',
  prefixes: [{ ipv6Prefix: '2001:4860:4801:10::/64' }, { ipv4Prefix: '66.249.64.0/27' }],
});

const POLICY = `
apiVersion: riskgate.dev/v1alpha1
kind: RiskPolicy
metadata: {name: automation}
spec:
  selector: {}
  clientIdentity: {trustedProxies: [127.0.0.0/8]}
  authentication:
    jwt:
      - {name: demo, issuer: https://issuer.demo.riskgate.dev, audiences: [shop-api], keysFile: keys/demo-issuer.jwks.json, algorithms: [ES256]}
  routes:
    - {name: admin, methods: [GET, POST], path: /admin/*, sensitivity: critical}
  signals:
    geoip: {hostingAsnPenalty: 20}
    automation:
      weight: 100
      crawlers:
        - {name: googlebot, userAgent: Googlebot, file: googlebot.json}
`;

const CHROME_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36';
/** What Chromium sends with a navigation over HTTPS (seen in test/browser). */
const CHROME_NAVIGATION = {
  'user-agent': CHROME_UA,
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
  'accept-language': 'en-GB,en;q=0.9',
  'sec-ch-ua': '"Chromium";v="142", "Not_A Brand";v="99"',
  'sec-ch-ua-mobile': '?0',
  'sec-ch-ua-platform': '"Linux"',
  'sec-fetch-site': 'none',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-dest': 'document',
  'x-forwarded-proto': 'https',
};

let app: StreamingApp;
let policy: TempPolicy;
let enforcer: RunningEnforcer;

/** The decision the app was told, or the status the enforcer answered with. */
async function outcome(headers: Record<string, string>, path = '/page'): Promise<string> {
  const before = app.requests.length;
  const res = await request(`${enforcer.trafficUrl}${path}`, { headers });
  await res.body.dump();
  const seen = app.requests.slice(before)[0];
  return seen ? String(seen.headers['x-riskgate-decision']) : String(res.statusCode);
}

beforeAll(async () => {
  app = await startStreamingApp();
  policy = tempPolicy(POLICY, { 'googlebot.json': GOOGLEBOT });
  enforcer = await startTestEnforcer(policy.file, app.url);
});

afterAll(async () => {
  await enforcer?.close();
  await app?.close();
  policy?.remove();
});

describe('scripts that present as browsers meet a challenge, never a wall', () => {
  it('a Chrome user agent without Sec-Fetch-Mode and sec-ch-ua, over HTTPS → challenged (401), even at weight 100 on a critical route', async () => {
    const { 'sec-fetch-mode': _m, 'sec-ch-ua': _c, ...script } = CHROME_NAVIGATION;
    expect(await outcome({ ...script, accept: 'application/json' })).toBe('401');
    expect(await outcome({ ...script, accept: 'application/json' }, '/admin/x')).toBe('401');
  });

  it('curl, python-requests, Go without a token → challenged; no user agent at all → challenged', async () => {
    for (const ua of ['curl/8.5.0', 'python-requests/2.32.3', 'Go-http-client/1.1', 'okhttp/4.12.0']) {
      expect(await outcome({ 'user-agent': ua, 'x-forwarded-proto': 'https' })).toBe('401');
    }
    expect(await outcome({ 'user-agent': '' })).toBe('401');
  });

  it('a fake Googlebot from a residential address → challenged', async () => {
    expect(
      await outcome({
        'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
        'x-forwarded-for': '81.2.69.160',
      }),
    ).toBe('401');
  });

  it('HTTP/1.0 → half the weight', async () => {
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(Number(new URL(enforcer.trafficUrl).port), '127.0.0.1');
      let out = '';
      socket.on('data', (d) => {
        out += d.toString();
      });
      socket.on('close', () => resolve(out));
      socket.write(`GET /page HTTP/1.0\r\nHost: app\r\nUser-Agent: ${CHROME_UA}\r\n\r\n`);
    });
    // 50 points: challenged at the default threshold of 40.
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
  });
});

describe('people and legitimate machines pass', () => {
  it('Chromium’s own navigation over HTTPS → allowed', async () => {
    expect(await outcome(CHROME_NAVIGATION)).toBe('allow');
  });

  it('the same browser over plain HTTP, where it sends no Fetch Metadata → allowed', async () => {
    const { 'sec-fetch-mode': _m, 'sec-ch-ua': _c, 'x-forwarded-proto': _p, ...plain } = CHROME_NAVIGATION;
    expect(await outcome({ ...plain, host: 'shop.example' })).toBe('allow');
  });

  it('a script with a valid token is the token holder’s, not a bot', async () => {
    const token = await demoToken({ sub: 'alice' });
    expect(await outcome({ 'user-agent': 'python-requests/2.32.3', authorization: `Bearer ${token}` })).toBe(
      'allow',
    );
  });

  it('the real Googlebot from its published range, on a hosting network, passes without the hosting penalty', async () => {
    const ua = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
    expect(await outcome({ 'user-agent': ua, 'x-forwarded-for': '66.249.64.5' })).toBe('allow');
    const explained = await (await fetch(`${enforcer.adminUrl}/metrics`)).text();
    expect(explained).toMatch(
      /riskgate_signal_hits_total\{signal="automation",reason="automation.verified_crawler"\} [1-9]/,
    );
  });
});
