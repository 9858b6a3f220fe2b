/**
 * The challenge page and the clearance it earns, over HTTP through a real enforcer. Attacker
 * first: a spent answer, a clearance from another address, an altered or cheaper clearance and a
 * script that only claims to be a browser all meet the challenge again. The real browser's side
 * of it is test/browser/challenge.browser.test.ts.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StreamingApp, startStreamingApp } from '../test/support/protocol-apps.ts';
import { type TempPolicy, tempPolicy } from '../test/support/temp-policy.ts';
import { startTestEnforcer } from '../test/support/test-enforcer.ts';
import { hasClearance, issueClearance, ProofOfWork, solve } from './actions/proof-of-work.ts';
import type { RunningEnforcer } from './enforcer.ts';

// 203.0.113.0/24 is on the feed: weight 50 puts its clients at challenge (40), far below
// restrict and deny.
const POLICY = `
apiVersion: riskgate.dev/v1alpha1
kind: RiskPolicy
metadata: {name: challenge-page}
spec:
  selector: {}
  clientIdentity: {trustedProxies: [127.0.0.0/8]}
  signals:
    ipReputation:
      weight: 50
      feeds: [{name: suspicious, file: feed.txt, format: plain, category: proxy}]
  thresholds: {challenge: 40, restrict: 90, deny: 95}
  actions:
    challenge:
      proofOfWork: {minDifficulty: 8, maxDifficulty: 16, clearance: 10m}
`;

const BROWSER = {
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-dest': 'document',
};

let app: StreamingApp;
let policy: TempPolicy;
let enforcer: RunningEnforcer;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text(): Promise<string>;
  json(): Promise<unknown>;
  setCookies: string[];
}

/** A request as a browser sends it (fetch would replace Sec-Fetch-Mode with its own). */
async function get(path: string, headers: Record<string, string>, method = 'GET'): Promise<Answer> {
  const res = await request(`${enforcer.trafficUrl}${path}`, {
    method: method as 'GET',
    headers,
    ...(method === 'POST' ? { body: 'a=1' } : {}),
  });
  const body = await res.body.text();
  const cookies = res.headers['set-cookie'];
  return {
    status: res.statusCode,
    headers: res.headers,
    text: async () => body,
    json: async () => JSON.parse(body) as unknown,
    setCookies: cookies === undefined ? [] : Array.isArray(cookies) ? cookies : [cookies],
  };
}

/** What the page would compute: the challenge from its script, solved. */
async function solvePage(res: Answer): Promise<string> {
  const html = await res.text();
  const challenge = JSON.parse(/const challenge = ("[^"]+");/.exec(html)![1]!) as string;
  const difficulty = Number(/const difficulty = (\d+);/.exec(html)![1]);
  return solve(challenge, difficulty)!;
}

function cookiesOf(res: Answer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of res.setCookies) {
    const [pair] = line.split(';');
    const eq = pair!.indexOf('=');
    out[pair!.slice(0, eq)] = line;
  }
  return out;
}

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

describe('a browser navigation that scores challenge gets the challenge page', () => {
  it('is a self-contained page under a strict CSP, with the problem details in its headers', async () => {
    const res = await get('/account', { ...BROWSER, 'x-forwarded-for': '203.0.113.5' });
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['www-authenticate']).toMatch(/^PoW realm="riskgate"/);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'nonce-[A-Za-z0-9+/=]+'/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    const html = await res.text();
    // Nothing loaded from anywhere: no src or href attributes at all.
    expect(html).not.toMatch(/\s(src|href)=/);
    const nonce = /'nonce-([^']+)'/.exec(csp)![1]!;
    expect(html.match(/<script nonce="([^"]+)"/)![1]).toBe(nonce);
    expect(html).toContain('<noscript>');
    expect(html).toContain('role="status"');
    expect(html).toContain('<html lang="en">');
  });

  it('speaks the browser’s language when it can', async () => {
    const res = await get('/account', {
      ...BROWSER,
      'accept-language': 'fr-CH, de;q=0.9, en;q=0.8',
      'x-forwarded-for': '203.0.113.5',
    });
    const html = await res.text();
    expect(html).toContain('<html lang="de">');
    expect(html).toContain('Ihr Browser wird geprüft');
  });

  it('an API client (no navigation) gets the problem document, as before', async () => {
    const res = await get('/account', { accept: 'application/json', 'x-forwarded-for': '203.0.113.5' });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'RG_ERR_PROOF_OF_WORK_REQUIRED' });
  });

  it('a posted form is not replayed by the page: it asks the person to resubmit', async () => {
    const res = await get('/account', { ...BROWSER, 'x-forwarded-for': '203.0.113.5' }, 'POST');
    const html = await res.text();
    expect(html).toContain('const replay = false;');
    expect(html).toContain('go back and submit it once more');
  });
});

describe('the answer and the clearance', () => {
  it('the answer in the cookie passes once, and earns an HttpOnly clearance bound to the client', async () => {
    const from = { ...BROWSER, 'x-forwarded-for': '203.0.113.20' };
    const answer = await solvePage(await get('/page', from));
    const before = app.requests.length;
    const passed = await get('/page', { ...from, cookie: `rg_pow=${answer}` });
    expect(passed.status).toBe(200);
    expect(app.requests.length).toBe(before + 1);
    const cookies = cookiesOf(passed);
    expect(cookies['rg_clearance']).toMatch(/HttpOnly/);
    expect(cookies['rg_clearance']).toMatch(/Max-Age=600/);
    expect(cookies['rg_pow']).toMatch(/Max-Age=0/);
    const clearance = cookies['rg_clearance']!.split(';')[0]!;

    // The spent answer alone: challenged again (a replay).
    expect((await get('/page', { ...from, cookie: `rg_pow=${answer}` })).status).toBe(401);
    // The clearance: the next pages pass without a challenge.
    for (const path of ['/page', '/other', '/page?x=1']) {
      expect((await get(path, { ...from, cookie: clearance })).status).toBe(200);
    }
    // From another address, the same clearance is worth nothing.
    expect(
      (await get('/page', { ...BROWSER, 'x-forwarded-for': '203.0.113.21', cookie: clearance })).status,
    ).toBe(401);
    // Altered: nothing.
    const [name, value] = clearance.split('=') as [string, string];
    const parts = value.split('.');
    parts[1] = String(Number(parts[1]) + 3_600_000);
    expect((await get('/page', { ...from, cookie: `${name}=${parts.join('.')}` })).status).toBe(401);
  });

  it('a script that sends the answer in the header passes once but earns no clearance', async () => {
    const from = { accept: 'application/json', 'x-forwarded-for': '203.0.113.30' };
    const res = await get('/api', from);
    const { proofOfWork } = (await res.json()) as { proofOfWork: { challenge: string; difficulty: number } };
    const passed = await get('/api', {
      ...from,
      'x-riskgate-pow': solve(proofOfWork.challenge, proofOfWork.difficulty)!,
    });
    expect(passed.status).toBe(200);
    expect(passed.setCookies).toEqual([]);
  });

  it('each doubling of the challenges a client was given adds a bit to its next one', async () => {
    const from = { accept: 'application/json', 'x-forwarded-for': '203.0.113.60' };
    const difficulties: number[] = [];
    for (let i = 0; i < 8; i++) {
      const body = (await (await get('/api', from)).json()) as { proofOfWork: { difficulty: number } };
      difficulties.push(body.proofOfWork.difficulty);
    }
    const base = difficulties[0]!;
    expect(difficulties).toEqual([0, 1, 1, 2, 2, 2, 2, 3].map((extra) => base + extra));
    // Another client starts from the base.
    const other = (await (await get('/api', { ...from, 'x-forwarded-for': '203.0.113.61' })).json()) as {
      proofOfWork: { difficulty: number };
    };
    expect(other.proofOfWork.difficulty).toBe(base);
  });

  it('a clearance earned at a lower difficulty does not cover a harder challenge', () => {
    const pow = new ProofOfWork();
    const value = issueClearance(pow, '203.0.113.50', 10, 60_000);
    expect(hasClearance(pow, value, '203.0.113.50', 10)).toBe(true);
    expect(hasClearance(pow, value, '203.0.113.50', 11)).toBe(false);
    expect(hasClearance(pow, value, '203.0.113.51', 10)).toBe(false);
    expect(hasClearance(pow, value, '203.0.113.50', 10, Date.now() + 61_000)).toBe(false);
    expect(hasClearance(new ProofOfWork(), value, '203.0.113.50', 10)).toBe(false);
  });

  it('a cookie named like the answer inside another cookie is not read as it', async () => {
    const from = { ...BROWSER, 'x-forwarded-for': '203.0.113.40' };
    const answer = await solvePage(await get('/page', from));
    expect((await get('/page', { ...from, cookie: `xrg_pow=${answer}` })).status).toBe(401);
  });
});
