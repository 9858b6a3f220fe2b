/**
 * The challenge as a person meets it, in a real headless Chromium (Debian's package, driven by
 * playwright-core): a browser from an address on a threat feed navigates to a shop page, gets the
 * challenge page, whose Web Worker solves the proof of work under the page's strict CSP; the page
 * reloads onto the shop, and the next page is not challenged (the clearance cookie). The client
 * helper is exercised from the same browser: fetch → 401 → solved in a Web Worker → retried → 200.
 * UPDATE_SCREENSHOT=1 rewrites docs/challenge-page.png.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEnforcer } from '../../enforcer/enforcer.ts';
import { type TempPolicy, tempPolicy } from '../support/temp-policy.ts';
import { startTestEnforcer } from '../support/test-enforcer.ts';

const ROOT = join(import.meta.dirname, '../..');
const CHROMIUM = process.env['RISKGATE_CHROMIUM'] ?? '/usr/bin/chromium';

const policyWith = (difficulty: number) => `
apiVersion: riskgate.dev/v1alpha1
kind: RiskPolicy
metadata: {name: browser-challenge}
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
      proofOfWork: {minDifficulty: ${difficulty}, maxDifficulty: ${difficulty}}
`;

interface Shop {
  url: string;
  seen: string[];
  server: Server;
}

/** A small shop: pages, a JSON API, and the client helper's files as a site would serve them. */
async function startShop(): Promise<Shop> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    seen.push(path);
    const file = /^\/clients\/(riskgate-fetch|pow-worker)\.js$/.exec(path);
    if (file) {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(readFileSync(join(ROOT, `clients/js/${file[1]}.js`)));
      return;
    }
    if (path.startsWith('/api/')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>Shop</title><h1>Shop ${path}</h1>`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen, server };
}

let shop: Shop;
let policy: TempPolicy;
let hardPolicy: TempPolicy;
let enforcer: RunningEnforcer;
let hard: RunningEnforcer;
let browser: Browser;

beforeAll(async () => {
  shop = await startShop();
  policy = tempPolicy(policyWith(14), { 'feed.txt': '203.0.113.0/24\n' });
  hardPolicy = tempPolicy(policyWith(28), { 'feed.txt': '203.0.113.0/24\n' });
  enforcer = await startTestEnforcer(policy.file, shop.url);
  hard = await startTestEnforcer(hardPolicy.file, shop.url);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
  await enforcer?.close();
  await hard?.close();
  shop?.server.close();
  policy?.remove();
  hardPolicy?.remove();
});

describe('a person in a real browser', () => {
  it('meets the challenge page, which solves itself and lands on the page asked for', async () => {
    const context = await browser.newContext({ extraHTTPHeaders: { 'x-forwarded-for': '203.0.113.77' } });
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused/.test(m.text())) violations.push(m.text());
    });
    const first = await page.goto(`${enforcer.trafficUrl}/shop/1`);
    expect(first?.status()).toBe(401);
    expect(shop.seen).not.toContain('/shop/1');
    // The page's script solves in its worker, sets the answer and reloads onto the shop.
    await page.waitForSelector('h1:text("Shop /shop/1")', { timeout: 30_000 });
    expect(shop.seen.filter((p) => p === '/shop/1')).toHaveLength(1);
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'rg_clearance')?.httpOnly).toBe(true);
    expect(cookies.find((c) => c.name === 'rg_pow')).toBeUndefined();

    // The next navigation is not challenged.
    const next = await page.goto(`${enforcer.trafficUrl}/shop/2`);
    expect(next?.status()).toBe(200);
    expect(await page.textContent('h1')).toBe('Shop /shop/2');
    expect(violations).toEqual([]);
    await context.close();
  });

  it('shows its progress in words a screen reader announces (screenshot: docs/challenge-page.png)', async () => {
    const context = await browser.newContext({
      extraHTTPHeaders: { 'x-forwarded-for': '203.0.113.78' },
      viewport: { width: 720, height: 420 },
    });
    const page = await context.newPage();
    await page.goto(`${hard.trafficUrl}/shop/1`);
    expect(await page.title()).toBe('Checking your browser');
    const status = page.locator('[role="status"]');
    expect(await status.getAttribute('aria-live')).toBe('polite');
    expect(await status.textContent()).toBe('Working…');
    // 28 bits is hours of work: the page is still at it when the picture is taken.
    await page.waitForFunction("Number(document.getElementById('bar').value) >= 0");
    const shot = await page.screenshot({
      ...(process.env['UPDATE_SCREENSHOT'] ? { path: join(ROOT, 'docs/challenge-page.png') } : {}),
    });
    expect(shot.length).toBeGreaterThan(5000);
    await context.close();
  });

  it('with JavaScript off, the page says why it cannot go on', async () => {
    const context = await browser.newContext({
      javaScriptEnabled: false,
      extraHTTPHeaders: { 'x-forwarded-for': '203.0.113.79' },
    });
    const page = await context.newPage();
    await page.goto(`${enforcer.trafficUrl}/shop/1`);
    expect(await page.textContent('noscript')).toContain('needs JavaScript');
    await context.close();
  });
});

describe('the client helper in a real browser', () => {
  it('fetch → 401 → solved in a Web Worker → retried → 200', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    // The page itself comes from a clean address; the API calls from a suspicious one.
    await page.route('**/api/**', (route) =>
      route.continue({ headers: { ...route.request().headers(), 'x-forwarded-for': '203.0.113.88' } }),
    );
    await page.goto(`${enforcer.trafficUrl}/app`);
    // A string, so that it runs in the page as written (the test runner rewrites dynamic imports).
    const result = await page.evaluate(`(async () => {
      const statuses = [];
      const { withRiskgate } = await import('/clients/riskgate-fetch.js');
      const counting = async (input, init) => {
        const res = await fetch(input, init);
        statuses.push(res.status);
        return res;
      };
      const api = withRiskgate(counting);
      const res = await api('/api/orders', { method: 'POST', body: '{"sku":1}' });
      return { statuses, body: await res.json() };
    })()`);
    expect(result).toEqual({ statuses: [401, 200], body: { ok: true } });
    await context.close();
  });
});
