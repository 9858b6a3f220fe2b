/**
 * Component tests: a real enforcer over real sockets, in front of a real HTTP app that records
 * exactly what reaches it.
 */
import { createHash } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RecordingUpstream, startRecordingUpstream } from '../test/support/recording-upstream.ts';
import { checkSecurityRow } from '../test/support/security-doc.ts';
import { eventually, type TempPolicy, tempPolicy } from '../test/support/temp-policy.ts';
import { startTestEnforcer } from '../test/support/test-enforcer.ts';
import { demoToken } from '../test/support/tokens.ts';
import { solve } from './actions/proof-of-work.ts';
import { type RunningEnforcer, startEnforcer } from './enforcer.ts';

const API_KEY = 's3cret-api-key-for-tests';

const COMPONENT_POLICY = (mode = 'enforce', extra = '') => `
apiVersion: riskgate.dev/v1alpha1
kind: RiskPolicy
metadata:
  name: component
spec:
  selector: {}
  mode: ${mode}
  clientIdentity:
    trustedProxies: [127.0.0.0/8, ::1]
  authentication:
    jwt:
      - name: demo
        issuer: https://issuer.demo.riskgate.dev
        audiences: [shop-api]
        keysFile: keys/demo-issuer.jwks.json
        algorithms: [ES256]
    apiKeys:
      keys:
        - id: reporting
          sha256: ${createHash('sha256').update(API_KEY).digest('hex')}
          scopes: [reports:read]
  routes:
    - name: transfer
      methods: [POST]
      path: /transfer
      sensitivity: critical
      authentication: required
      requiredScopes: [payments:write]
    - name: login
      methods: [POST]
      path: /login
      sensitivity: high
      role: login
      login:
        accountField: username
        failureStatuses: [401]
    - name: reports
      methods: [GET]
      path: /reports/:id
      authentication: required
      requiredScopes: [reports:read]
  signals:
    ipReputation:
      weight: 90
      feeds:
        - { name: botnet, file: bad.txt, refreshInterval: 1s, category: botnet }
        - { name: proxies, file: restrict.txt, refreshInterval: 1s, weight: 65 }
        - { name: suspicious, file: suspicious.txt, refreshInterval: 1s, weight: 45 }
        - { name: odd, file: odd.txt, refreshInterval: 1s, weight: 20 }
    credentialStuffing:
      weight: 70
      window: 10m
      thresholds: { perIp: 6, perAsn: 50, perAccount: 4, perCredential: 3, global: 1000, distinctAccountsPerIp: 5 }
  actions:
    challenge:
      stepUp: { acrValues: [mfa], maxAge: 300 }
      proofOfWork: { minDifficulty: 6, maxDifficulty: 8, ttl: 1m }
    restrict:
      rateLimit: { requests: 3, per: 1m }
${extra}`;

const FEEDS = {
  'bad.txt': '# test botnet\n203.0.113.0/24\n2001:db8:bad::/48\n',
  'restrict.txt': '198.51.100.0/24\n',
  'suspicious.txt': '192.0.2.0/24\n',
  'odd.txt': '100.64.0.0/10\n',
};

let upstream: RecordingUpstream;
let slowObserved = 'slow: not run';
const refusedTokens = new Set<string>();
let policy: TempPolicy;
let enforcer: RunningEnforcer;

async function send(
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; base?: string } = {},
) {
  const res = await request(`${options.base ?? enforcer.trafficUrl}${path}`, {
    method: (options.method ?? 'GET') as 'GET',
    headers: options.headers ?? {},
    body: options.body ?? null,
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) };
}

const from = (ip: string, headers: Record<string, string> = {}) => ({ 'x-forwarded-for': ip, ...headers });

beforeAll(async () => {
  upstream = await startRecordingUpstream();
  policy = tempPolicy(COMPONENT_POLICY(), FEEDS);
  enforcer = await startEnforcer({
    policyPath: policy.file,
    upstream: upstream.url,
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    watchIntervalMs: 200,
    logLevel: 'silent',
    upstreamHeadersTimeoutMs: 1500,
  });
});

afterAll(async () => {
  await enforcer?.close();
  await upstream?.close();
  policy?.remove();
});

afterEach(() => {
  upstream.requests.length = 0;
  upstream.respond = (req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ok: true, path: req.url }));
  };
});

describe('allow: proxying and header rules', () => {
  it('proxies with the three x-riskgate headers and strips what the client sent in that namespace', async () => {
    const res = await send('/products/1?color=red', {
      headers: { 'x-riskgate-score': '0', 'x-riskgate-decision': 'allow', 'x-riskgate-subject': 'admin' },
    });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ ok: true, path: '/products/1?color=red' });
    const seen = upstream.requests[0]!;
    expect(seen.headers['x-riskgate-score']).toBe('0');
    expect(seen.headers['x-riskgate-decision']).toBe('allow');
    expect(seen.headers['x-riskgate-request-id']).toMatch(/^[\w-]+-\w+$/);
    expect(seen.headers['x-riskgate-subject']).toBeUndefined();
    expect(res.headers['x-riskgate-request-id']).toBe(seen.headers['x-riskgate-request-id']);
  });

  it('drops hop-by-hop headers and the ones Connection names, both ways', async () => {
    upstream.respond = (_req, res) => {
      res.setHeader('connection', 'x-internal');
      res.setHeader('x-internal', 'secret');
      res.setHeader('x-kept', 'yes');
      res.end('ok');
    };
    // undici refuses to send Connection itself, so this client is node:http
    const res = await new Promise<{ headers: Record<string, unknown> }>((resolve, reject) => {
      const req = httpRequest(`${enforcer.trafficUrl}/a`, {
        headers: { connection: 'keep-alive, x-hop', 'x-hop': '1', te: 'trailers', 'x-kept': 'y' },
        agent: false,
      });
      req.on('response', (r) => {
        r.resume();
        r.on('end', () => resolve({ headers: r.headers }));
      });
      req.on('error', reject);
      req.end();
    });
    const seen = upstream.requests[0]!;
    expect(seen.headers['x-hop']).toBeUndefined();
    expect(seen.headers['te']).toBeUndefined();
    expect(seen.headers['x-kept']).toBe('y');
    expect(res.headers['x-internal']).toBeUndefined();
    expect(res.headers['x-kept']).toBe('yes');
  });

  it('streams request and response bodies intact', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 'abcdefghij');
    upstream.respond = (req, res) =>
      res.end(createHash('sha256').update(req.body).digest('hex') + 'x'.repeat(2_000_000));
    const res = await send('/upload', {
      method: 'PUT',
      body: big,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(res.status).toBe(200);
    expect(res.text.slice(0, 64)).toBe(createHash('sha256').update(big).digest('hex'));
    expect(res.text.length).toBe(64 + 2_000_000);
  });

  it('appends the peer to X-Forwarded-For for the app', async () => {
    await send('/a', { headers: from('192.0.2.200, 100.1.1.1') });
    expect(upstream.requests[0]!.headers['x-forwarded-for']).toBe('192.0.2.200, 100.1.1.1, 127.0.0.1');
  });
});

describe('deny', () => {
  it('answers a client on a threat feed with 403 problem+json and no internals', async () => {
    const res = await send('/products/1', { headers: from('203.0.113.9') });
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.json();
    expect(body).toEqual({
      type: 'about:blank',
      title: 'Forbidden',
      status: 403,
      code: 'RG_ERR_DENIED',
      requestId: res.headers['x-riskgate-request-id'],
    });
    expect(res.text).not.toMatch(/botnet|score|reputation|203\.0\.113/);
    expect(upstream.requests).toHaveLength(0);
  });

  it('believes X-Forwarded-For only from trusted proxies, and only its right-most untrusted hop', async () => {
    expect((await send('/a', { headers: from('203.0.113.9, 100.1.1.1') })).status).toBe(200);
    expect((await send('/a', { headers: from('100.1.1.1, 203.0.113.9') })).status).toBe(403);
  });

  it('refuses a forwarded hop that is not an address', async () => {
    const res = await send('/a', { headers: from('203.0.113.9, not-an-ip') });
    expect(res.status).toBe(400);
    expect(res.json().code).toBe('RG_ERR_BAD_FORWARDED');
  });

  it('scores a client its proxy withheld (unknown) instead of refusing it, and reaches the app', async () => {
    const before = upstream.requests.length;
    expect((await send('/a', { headers: from('203.0.113.9, unknown') })).status).toBe(200);
    expect(upstream.requests.length).toBe(before + 1);
  });

  it('scores IPv4-mapped and IPv6 clients', async () => {
    expect((await send('/a', { headers: from('::ffff:203.0.113.77') })).status).toBe(403);
    expect((await send('/a', { headers: from('2001:db8:bad::1') })).status).toBe(403);
    expect((await send('/a', { headers: from('2001:db8:900d::1') })).status).toBe(200);
  });
});

describe('authentication and authorization', () => {
  it('requires a token on POST /transfer and names the scheme', async () => {
    const res = await send('/transfer', { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="riskgate"');
    expect(res.json().code).toBe('RG_ERR_UNAUTHENTICATED');
    expect(upstream.requests).toHaveLength(0);
  });

  it('passes a valid token and names the subject to the app', async () => {
    const token = await demoToken({ sub: 'alice' });
    const res = await send('/transfer', {
      method: 'POST',
      body: '{}',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(upstream.requests[0]!.headers['x-riskgate-subject']).toBe('alice');
    expect(upstream.requests[0]!.headers['authorization']).toBe(`Bearer ${token}`);
  });

  it('refuses a token without the required scope with 403', async () => {
    const token = await demoToken({ scope: 'payments:read' });
    const res = await send('/transfer', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(403);
    expect(res.json().code).toBe('RG_ERR_INSUFFICIENT_SCOPE');
    expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
  });

  it.each([
    ['expired', async () => demoToken({}, { expiresIn: Math.floor(Date.now() / 1000) - 3600 })],
    ['alg none', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`],
    ['HS256 signed with the public key', async () => hsWithPublicKey()],
    ['garbage', async () => 'not.a.token'],
    ['wrong issuer', async () => demoToken({ iss: 'https://evil.example' })],
    ['wrong audience', async () => demoToken({ aud: 'someone-else' })],
    ['not yet valid', async () => demoToken({ nbf: Math.floor(Date.now() / 1000) + 3600 })],
    ['unknown kid', async () => attackerToken({ kid: 'rotated-away' })],
    [
      'jku pointing at the attacker',
      async () => attackerToken({ kid: 'demo-2026', jku: 'https://evil.example/jwks.json' }),
    ],
    [
      'x5u pointing at the attacker',
      async () => attackerToken({ kid: 'demo-2026', x5u: 'https://evil.example/cert.pem' }),
    ],
    ['embedded jwk', async () => attackerToken({ kid: 'demo-2026', embed: true })],
    ['oversized', async () => `${b64({ alg: 'ES256' })}.${b64({ pad: 'x'.repeat(10_000) })}.sig`],
    ['malformed base64', async () => 'eyJhbGciOiJFUzI1NiJ9.!!!not-base64!!!.AAAA'],
  ])('refuses a %s token with 401 invalid_token, also on optional routes', async (_name, make) => {
    const token = await make();
    for (const path of ['/transfer', '/products/1']) {
      const res = await send(path, {
        method: path === '/transfer' ? 'POST' : 'GET',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(401);
      expect(res.json().code).toBe('RG_ERR_INVALID_TOKEN');
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    }
    expect(upstream.requests).toHaveLength(0);
    refusedTokens.add(_name);
  });

  it('records the forged-token results in docs/security.md', () => {
    checkSecurityRow(
      'fault-tokens',
      `all ${refusedTokens.size} kinds refused with 401 \`RG_ERR_INVALID_TOKEN\` on /transfer and /products/1; 0 reached the app`,
    );
  });

  it('accepts an API key by its hash and refuses an unknown one', async () => {
    const ok = await send('/reports/7', { headers: { 'x-api-key': API_KEY } });
    expect(ok.status).toBe(200);
    expect(upstream.requests[0]!.headers['x-riskgate-subject']).toBe('apikey:reporting');
    const bad = await send('/reports/7', { headers: { 'x-api-key': `${API_KEY}x` } });
    expect(bad.status).toBe(401);
    expect(bad.json().code).toBe('RG_ERR_INVALID_API_KEY');
  });

  it('cannot be walked around by path tricks', async () => {
    for (const path of ['/x/%2e%2e/transfer', '/Transfer', '/transfer/', '//transfer', '/./transfer']) {
      const res = await send(path, { method: 'POST' });
      expect(res.status, path).toBe(401);
    }
    const encodedSlash = await send('/a%2ftransfer', { method: 'POST' });
    expect(encodedSlash.status).toBe(400);
    expect(encodedSlash.json().code).toBe('RG_ERR_BAD_REQUEST_TARGET');
    expect(upstream.requests).toHaveLength(0);
  });
});

describe('challenge', () => {
  it('asks an authenticated subject to step up (RFC 9470) and lets a token that meets it through', async () => {
    const plain = await demoToken({ sub: 'bob' });
    const res = await send('/transfer', {
      method: 'POST',
      headers: from('100.64.1.1', { authorization: `Bearer ${plain}` }),
    });
    expect(res.status).toBe(401);
    expect(res.json().code).toBe('RG_ERR_STEP_UP_REQUIRED');
    const header = res.headers['www-authenticate'] as string;
    expect(header).toContain('error="insufficient_user_authentication"');
    expect(header).toContain('acr_values="mfa"');
    expect(header).toContain('max_age=300');

    const stepped = await demoToken({
      sub: 'bob',
      acr: 'mfa',
      auth_time: Math.floor(Date.now() / 1000) - 10,
    });
    const ok = await send('/transfer', {
      method: 'POST',
      headers: from('100.64.1.1', { authorization: `Bearer ${stepped}` }),
    });
    expect(ok.status).toBe(200);
    expect(upstream.requests[0]!.headers['x-riskgate-decision']).toBe('allow');

    const stale = await demoToken({
      sub: 'bob',
      acr: 'mfa',
      auth_time: Math.floor(Date.now() / 1000) - 3600,
    });
    const old = await send('/transfer', {
      method: 'POST',
      headers: from('100.64.1.1', { authorization: `Bearer ${stale}` }),
    });
    expect(old.status).toBe(401);
  });

  it('gives an anonymous client a proof-of-work challenge, and passes the solved one', async () => {
    const res = await send('/products/1', { headers: from('192.0.2.10') });
    expect(res.status).toBe(401);
    const body = res.json();
    expect(body.code).toBe('RG_ERR_PROOF_OF_WORK_REQUIRED');
    expect(res.headers['www-authenticate']).toContain('PoW ');
    const { challenge, difficulty } = body.proofOfWork;
    const answer = solve(challenge, difficulty)!;
    const ok = await send('/products/1', { headers: from('192.0.2.10', { 'x-riskgate-pow': answer }) });
    expect(ok.status).toBe(200);
    expect(upstream.requests[0]!.headers['x-riskgate-pow']).toBeUndefined();
    // bound to the client: another address cannot reuse it
    const stolen = await send('/products/1', { headers: from('192.0.2.11', { 'x-riskgate-pow': answer }) });
    expect(stolen.status).toBe(401);
  });

  it('takes a solution once (the route binding: actions/proof-of-work.test.ts)', async () => {
    const first = (await send('/products/2', { headers: from('192.0.2.10') })).json();
    const answer = solve(first.proofOfWork.challenge, first.proofOfWork.difficulty)!;
    // Twenty replays of one solution: the first passes, the rest are challenged again.
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      statuses.push(
        (await send('/products/2', { headers: from('192.0.2.10', { 'x-riskgate-pow': answer }) })).status,
      );
    }
    expect(statuses[0]).toBe(200);
    expect(statuses.slice(1)).toEqual(Array(19).fill(401));
    checkSecurityRow(
      'pow-replay',
      `one solution replayed 20 times: ${statuses.filter((s) => s === 200).length} passed, ${statuses.filter((s) => s === 401).length} challenged again`,
    );
  });
});

describe('restrict', () => {
  it('allows safe methods only, and at a tighter rate', async () => {
    const post = await send('/orders', { method: 'POST', headers: from('198.51.100.5') });
    expect(post.status).toBe(403);
    expect(post.json().code).toBe('RG_ERR_RESTRICTED');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await send('/orders', { headers: from('198.51.100.5') })).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const limited = await send('/orders', { headers: from('198.51.100.5') });
    expect(limited.headers['retry-after']).toBe('60');
    expect(upstream.requests.every((r) => r.headers['x-riskgate-decision'] === 'restrict')).toBe(true);
  });
});

describe('credential stuffing', () => {
  it('challenges, and never denies, repeated failures against one account from rotating addresses', async () => {
    upstream.respond = (_req, res) => {
      res.statusCode = 401;
      res.end('{"error":"bad credentials"}');
    };
    const codes: string[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await send('/login', {
        method: 'POST',
        headers: from(`100.1.2.${i + 1}`, { 'content-type': 'application/json' }),
        body: JSON.stringify({ username: 'Victim@example.com', password: `guess-${i}` }),
      });
      codes.push(res.headers['content-type']?.includes('problem') ? res.json().code : String(res.status));
    }
    // The app sees the first attempts; once the account view fires (account names are
    // normalised, so case games do not help), every next attempt must prove work. Failures on
    // an account are a lever anyone can pull: they challenge, never deny — and the refused
    // attempts do not count against the account, so the challenge does not feed itself.
    expect(codes.slice(0, 3)).toEqual(['401', '401', '401']);
    expect(codes.slice(3)).toEqual(Array(5).fill('RG_ERR_PROOF_OF_WORK_REQUIRED'));
    expect(upstream.requests).toHaveLength(3);
    expect(upstream.requests[0]!.body.toString()).toContain('guess-0');
    const other = await send('/login', {
      method: 'POST',
      headers: from('100.1.3.1', { 'content-type': 'application/json' }),
      body: JSON.stringify({ username: 'someone-else', password: 'x' }),
    });
    expect(other.status).toBe(401); // reached the app: another account is unaffected
  });

  it('refuses an oversized login body with 413', async () => {
    const res = await send('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'a', pad: 'x'.repeat(70_000) }),
    });
    expect(res.status).toBe(413);
  });
});

describe('upstream failures', () => {
  it('answers 504 when the app is too slow', async () => {
    upstream.respond = (_req, res) => setTimeout(() => res.end('late'), 3000).unref();
    const res = await send('/slow');
    expect(res.status).toBe(504);
    expect(res.json().code).toBe('RG_ERR_UPSTREAM_TIMEOUT');
    slowObserved = `slow: ${res.status} \`${res.json().code}\``;
  });

  it('leaks no upstream connections when the app keeps failing or stalling', async () => {
    upstream.respond = (_req, res) => setTimeout(() => res.end('late'), 3000).unref();
    const results = await Promise.all(Array.from({ length: 20 }, () => send('/stall')));
    expect(results.every((r) => r.status === 504)).toBe(true);
    upstream.respond = (req, res) => res.end(JSON.stringify({ ok: true, path: req.url }));
    // The pool is healthy afterwards and the 20 timed-out connections were closed, not kept:
    // the app still answers through the enforcer and holds one or two sockets, not twenty.
    expect((await send('/after')).status).toBe(200);
    const sockets = await new Promise<number>((resolve, reject) =>
      upstream.server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
    );
    expect(sockets, `${sockets} sockets open at the app`).toBeLessThanOrEqual(2);
  });

  it('answers 502 when the app is down', async () => {
    const down = await startTestEnforcer(policy.file, 'http://127.0.0.1:1');
    try {
      const res = await send('/a', { base: down.trafficUrl });
      expect(res.status).toBe(502);
      expect(res.json().code).toBe('RG_ERR_UPSTREAM_UNAVAILABLE');
      checkSecurityRow('fault-upstream', `down: ${res.status} \`${res.json().code}\`; ${slowObserved}`);
    } finally {
      await down.close();
    }
  });
});

describe('observability', () => {
  it('counts decisions and exposes config and readiness', async () => {
    await send('/a', { headers: from('203.0.113.1') });
    const metrics = await send('/metrics', { base: enforcer.adminUrl });
    expect(metrics.text).toMatch(
      /riskgate_decisions_total\{policy="component",route="default",decision="deny",mode="enforce"\} [1-9]/,
    );
    expect(metrics.text).toMatch(
      /riskgate_signal_hits_total\{signal="ipReputation",reason="ip.reputation"\} [1-9]/,
    );
    expect(metrics.text).toMatch(/riskgate_feed_entries\{feed="botnet"\} 2/);
    expect(metrics.text).toContain('riskgate_decision_duration_seconds_bucket');
    const config = (await send('/config', { base: enforcer.adminUrl })).json();
    expect(config.policy).toBe('component');
    expect(config.hash).toMatch(/^[0-9a-f]{16}$/);
    expect((await send('/readyz', { base: enforcer.adminUrl })).status).toBe(200);
    expect((await send('/healthz', { base: enforcer.adminUrl })).status).toBe(200);
  });
});

describe('live reload', () => {
  it('picks up a feed change without a restart', async () => {
    expect((await send('/a', { headers: from('100.99.0.1') })).status).toBe(200);
    appendFileSync(`${policy.dir}/bad.txt`, '100.99.0.0/16\n');
    expect(
      await eventually(async () => (await send('/a', { headers: from('100.99.0.1') })).status === 403),
    ).toBe(true);
  });

  it('applies a valid new policy and refuses an invalid one, keeping the last good', async () => {
    const before = enforcer.holder.current!.hash;
    policy.write(COMPONENT_POLICY('monitor'));
    expect(await eventually(() => enforcer.holder.current!.hash !== before)).toBe(true);
    const shadow = await send('/a', { headers: from('203.0.113.9') });
    expect(shadow.status).toBe(200);
    expect(upstream.requests.at(-1)!.headers['x-riskgate-shadow-decision']).toBe('deny');
    expect(upstream.requests.at(-1)!.headers['x-riskgate-decision']).toBe('allow');
    const metrics = await send('/metrics', { base: enforcer.adminUrl });
    expect(metrics.text).toMatch(
      /riskgate_decisions_total\{policy="component",route="default",decision="deny",mode="monitor"\} 1/,
    );

    const good = enforcer.holder.current!.hash;
    policy.write(COMPONENT_POLICY('sometimes'));
    expect(await eventually(() => enforcer.holder.lastError !== undefined)).toBe(true);
    expect(enforcer.holder.lastError).toContain('spec.mode');
    expect(enforcer.holder.current!.hash).toBe(good);
    checkSecurityRow(
      'fault-policy-file',
      'refused (spec.mode named), counted in riskgate_config_reloads_total{result="rejected"}; the previous policy kept answering',
    );
    expect((await send('/a', { headers: from('203.0.113.9') })).status).toBe(200);
    const after = await send('/metrics', { base: enforcer.adminUrl });
    expect(after.text).toMatch(/riskgate_config_reloads_total\{result="rejected"\} [1-9]/);

    policy.write(COMPONENT_POLICY());
    expect(await eventually(() => enforcer.holder.current!.mode === 'enforce')).toBe(true);
    expect((await send('/a', { headers: from('203.0.113.9') })).status).toBe(403);
  });
});

/** A token signed with the attacker's own key, trying to make the verifier use it. */
async function attackerToken(header: { kid: string; jku?: string; x5u?: string; embed?: boolean }) {
  const { generateKeyPair, exportJWK, SignJWT } = await import('jose');
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const protectedHeader: Record<string, unknown> = { alg: 'ES256', kid: header.kid };
  if (header.jku) protectedHeader['jku'] = header.jku;
  if (header.x5u) protectedHeader['x5u'] = header.x5u;
  if (header.embed) protectedHeader['jwk'] = await exportJWK(publicKey);
  return new SignJWT(claims()).setProtectedHeader(protectedHeader as { alg: string }).sign(privateKey);
}

function b64(value: unknown) {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function claims() {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: 'https://issuer.demo.riskgate.dev',
    aud: 'shop-api',
    sub: 'mallory',
    scope: 'payments:write',
    exp: now + 600,
  };
}

async function hsWithPublicKey() {
  const { readFileSync } = await import('node:fs');
  const { createHmac } = await import('node:crypto');
  const jwks = readFileSync(new URL('../examples/keys/demo-issuer.jwks.json', import.meta.url));
  const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: 'demo-2026' })}.${b64(claims())}`;
  return `${input}.${createHmac('sha256', jwks).update(input).digest('base64url')}`;
}
