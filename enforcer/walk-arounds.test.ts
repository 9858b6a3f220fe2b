/**
 * Request shapes an attacker tries to walk around a route's rules, sent over raw sockets through
 * a real enforcer to a real app that reads requests as leniently as common app servers do
 * (test/support/lenient-app.ts). For each, the app's protected handler must not run without the
 * credential the route requires, and the app must receive exactly the request the enforcer
 * decided on. The observed rows are the walk-around table in docs/security.md
 * (UPDATE_SECURITY_DOC=1 rewrites it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LenientApp, startLenientApp } from '../test/support/lenient-app.ts';
import { type TempPolicy, tempPolicy } from '../test/support/temp-policy.ts';
import { startTestEnforcer } from '../test/support/test-enforcer.ts';
import { demoToken } from '../test/support/tokens.ts';
import type { RunningEnforcer } from './enforcer.ts';

const POLICY = `
apiVersion: riskgate.dev/v1alpha1
kind: RiskPolicy
metadata: {name: walk-arounds}
spec:
  selector: {}
  authentication:
    jwt:
      - {name: demo, issuer: https://issuer.demo.riskgate.dev, audiences: [shop-api], keysFile: keys/demo-issuer.jwks.json, algorithms: [ES256]}
  routes:
    - {name: transfer, methods: [POST], path: /transfer, sensitivity: critical, authentication: required, requiredScopes: [payments:write]}
    - {name: admin, methods: [GET], path: /admin/*, authentication: required, unlistedMethods: refuse}
    - {name: catalogue, methods: [GET, HEAD], path: /products/*, sensitivity: low}
`;

let app: LenientApp;
let policy: TempPolicy;
let enforcer: RunningEnforcer;
let port: number;
let token: string;
const rows: string[] = [];

interface Answer {
  status: number;
  headers: string;
}

/** One request, written byte for byte; the answer's status line and headers. */
function send(head: string, body = ''): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let out = '';
    socket.on('data', (d) => {
      out += d.toString('latin1');
      if (out.includes('\r\n\r\n')) socket.destroy();
    });
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(out)?.[1] ?? 0);
      resolve({ status, headers: out.split('\r\n\r\n')[0] ?? '' });
    });
    socket.on('error', () => {});
    const length = body ? `Content-Length: ${Buffer.byteLength(body)}\r\n` : '';
    socket.write(`${head}\r\nHost: app\r\nConnection: close\r\n${length}\r\n${body}`);
  });
}

/** Sends a probe; returns what the enforcer answered and what, if anything, the app ran. */
async function probe(name: string, head: string, body = '') {
  const before = app.handled.length;
  const answer = await send(head, body);
  const ran = app.handled.slice(before);
  const received = ran.map((r) => `${r.method} ${r.rawUrl} → ${r.handler}`).join('; ') || '—';
  rows.push(`| ${name.replaceAll('|', '\\|')} | ${answer.status} | ${received.replaceAll('|', '\\|')} |`);
  return { ...answer, ran };
}

beforeAll(async () => {
  app = await startLenientApp();
  policy = tempPolicy(POLICY);
  enforcer = await startTestEnforcer(policy.file, app.url);
  port = Number(new URL(enforcer.trafficUrl).port);
  token = await demoToken({ sub: 'alice', scope: 'payments:write' });
});

afterAll(async () => {
  await enforcer?.close();
  await app?.close();
  policy?.remove();
});

describe('a protected route cannot be reached around its rules', () => {
  it.each([
    ['POST /transfer;x=1 HTTP/1.1'],
    ['POST /transfer; HTTP/1.1'],
    ['POST /transfer;jsessionid=abc HTTP/1.1'],
    ['POST /x/..;/transfer HTTP/1.1'],
    ['POST /transfer.json HTTP/1.1'],
    ['POST /transfer. HTTP/1.1'],
    ['POST /transfer%20 HTTP/1.1'],
    ['POST /TRANSFER.JSON;x HTTP/1.1'],
    ['PUT /transfer HTTP/1.1'],
    ['PATCH /transfer HTTP/1.1'],
    ['DELETE /transfer HTTP/1.1'],
    ['GET /transfer HTTP/1.1'],
  ])('%s without a token → 401, the app never runs /transfer', async (head) => {
    const { status, ran } = await probe(`\`${head.replace(' HTTP/1.1', '')}\` without a token`, head);
    expect(status).toBe(401);
    expect(ran).toEqual([]);
  });

  it.each([
    ['/%2574ransfer', 'double encoding'],
    ['/%252e%252e/transfer', 'double-encoded dot segment'],
    ['/transfer%3bx=1', 'encoded semicolon'],
    ['/%c0%ae%c0%ae/transfer', 'overlong UTF-8 dots'],
  ])('POST %s (%s) → 400, nothing forwarded', async (target, what) => {
    const { status, ran } = await probe(`\`POST ${target}\` (${what})`, `POST ${target} HTTP/1.1`);
    expect(status).toBe(400);
    expect(ran).toEqual([]);
  });

  it('forwards the path it matched: parameters removed', async () => {
    const { status, ran } = await probe(
      '`POST /transfer;jsessionid=abc` with a valid token',
      `POST /transfer;jsessionid=abc HTTP/1.1\r\nAuthorization: Bearer ${token}`,
    );
    expect(status).toBe(200);
    expect(ran.map((r) => r.rawUrl)).toEqual(['/transfer']);
  });

  it('a route with unlistedMethods: refuse answers 405 with Allow', async () => {
    const { status, headers, ran } = await probe(
      '`DELETE /admin/users` (unlistedMethods: refuse)',
      'DELETE /admin/users HTTP/1.1',
    );
    expect(status).toBe(405);
    expect(headers.toLowerCase()).toContain('allow: get, head');
    expect(ran).toEqual([]);
  });

  it('a CORS preflight on a route that requires authentication reaches the app', async () => {
    const { status, ran } = await probe(
      '`OPTIONS /transfer` (CORS preflight, no credentials)',
      'OPTIONS /transfer HTTP/1.1\r\nOrigin: https://shop.example\r\nAccess-Control-Request-Method: POST',
    );
    expect(status).toBe(200);
    expect(ran.map((r) => r.method)).toEqual(['OPTIONS']);
  });
});

describe('override headers and parameters do not change what the app does', () => {
  it.each([['X-Original-URL: /transfer'], ['X-Rewrite-URL: /transfer'], ['X_Original_URL: /transfer']])(
    'GET /products/1 with %s → the app runs /products',
    async (header) => {
      const { status, ran } = await probe(
        `\`GET /products/1\` + \`${header}\``,
        `GET /products/1 HTTP/1.1\r\n${header}`,
      );
      expect(status).toBe(200);
      expect(ran.map((r) => r.handler)).toEqual(['products']);
    },
  );

  it.each([['X-HTTP-Method-Override: DELETE'], ['X-HTTP-Method: DELETE'], ['X-Method-Override: DELETE']])(
    'GET /products/1 with %s → the app sees GET',
    async (header) => {
      const { ran } = await probe(
        `\`GET /products/1\` + \`${header}\``,
        `GET /products/1 HTTP/1.1\r\n${header}`,
      );
      expect(ran.map((r) => r.method)).toEqual(['GET']);
    },
  );

  it('POST ?_method=DELETE → the app sees POST, the parameter removed', async () => {
    const { ran } = await probe(
      '`POST /products/1?a=1&_method=DELETE`',
      'POST /products/1?a=1&_method=DELETE HTTP/1.1',
    );
    expect(ran.map((r) => [r.method, r.rawUrl])).toEqual([['POST', '/products/1?a=1']]);
  });
});

describe('headers the app would read as the enforcer’s own', () => {
  it.each([
    ['X_Riskgate_Subject: admin', (r: { subject: string | undefined }) => r.subject === undefined],
    ['X_Riskgate_Score: 0', () => true],
    ['X_Forwarded_For: 10.0.0.1', (r: { clientIp: string | undefined }) => r.clientIp !== '10.0.0.1'],
  ])('%s is dropped', async (header, check) => {
    const { ran } = await probe(
      `\`GET /products/1\` + \`${header}\``,
      `GET /products/1 HTTP/1.1\r\n${header}`,
    );
    expect(ran).toHaveLength(1);
    const name = header.split(':')[0]!.toLowerCase();
    expect(ran[0]!.headers[name]).toBeUndefined();
    expect(check(ran[0]! as never)).toBe(true);
  });

  it('an underscored header that collides with nothing passes', async () => {
    const { ran } = await probe(
      '`GET /products/1` + `X_Trace_Id: 7`',
      'GET /products/1 HTTP/1.1\r\nX_Trace_Id: 7',
    );
    expect(ran[0]!.headers['x_trace_id']).toBe('7');
  });
});

describe('Authorization is read as RFC 9110 reads it', () => {
  it.each([
    ['Authorization: Bearer\tgarbage', 401],
    ['Authorization: Bearer', 401],
    ['Authorization: BEARER', 401],
    ['Authorization: Bearerx.y.z', 401],
  ])('GET /products/1 with %s → %i', async (header, expected) => {
    const { status, ran } = await probe(
      `\`GET /products/1\` + \`${header.replace('\t', '<TAB>')}\``,
      `GET /products/1 HTTP/1.1\r\n${header}`,
    );
    expect(status).toBe(expected);
    expect(ran).toEqual([]);
  });

  it.each([['bearer  '], ['BEARER\t'], ['Bearer \t ']])(
    'scheme %j and a valid token → accepted',
    async (prefix) => {
      const { status } = await probe(
        `\`POST /transfer\` + \`Authorization: ${prefix.replaceAll('\t', '<TAB>')}<token>\``,
        `POST /transfer HTTP/1.1\r\nAuthorization: ${prefix}${token}`,
      );
      expect(status).toBe(200);
    },
  );
});

describe('what clients send that must work, not 5xx', () => {
  it('an upload with Expect: 100-continue gets 100, then the app gets the body', async () => {
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let out = '';
      socket.on('data', (d) => {
        out += d.toString('latin1');
        if (out.startsWith('HTTP/1.1 100')) {
          out += '|';
          socket.write('x'.repeat(2048));
        }
        if (/\r\n\r\n.*\}$/s.test(out.split('|')[1] ?? '')) socket.end();
      });
      socket.on('close', () => resolve(out));
      socket.write(
        `PUT /products/upload HTTP/1.1\r\nHost: app\r\nExpect: 100-continue\r\nContent-Length: 2048\r\nConnection: close\r\n\r\n`,
      );
    });
    const statuses = [...answer.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
    rows.push(
      `| \`PUT /products/upload\` with \`Expect: 100-continue\` and a 2 KB body | ${statuses.join(', ')} | PUT /products/upload → products |`,
    );
    expect(statuses).toEqual(['100', '200']);
    expect(app.handled.at(-1)?.method).toBe('PUT');
  });

  it('a token whose subject is not Latin-1 reaches the app with the subject percent-encoded', async () => {
    const unicode = await demoToken({ sub: 'ユーザー%42', scope: 'payments:write' });
    const { status, ran } = await probe(
      '`POST /transfer` with a token whose `sub` is `ユーザー%42`',
      `POST /transfer HTTP/1.1\r\nAuthorization: Bearer ${unicode}`,
    );
    expect(status).toBe(200);
    const header = ran[0]!.headers['x-riskgate-subject'] as string;
    expect(header).toBe('%E3%83%A6%E3%83%BC%E3%82%B6%E3%83%BC%2542');
    expect(decodeURIComponent(header)).toBe('ユーザー%42');
  });
});

describe('docs/security.md', () => {
  it('shows the walk-around table these tests observed', () => {
    const table = ['| request | enforcer answered | the app ran |', '| --- | ---: | --- |', ...rows].join(
      '\n',
    );
    const doc = readFileSync('docs/security.md', 'utf8');
    const start = '<!-- walkarounds:start -->';
    const end = '<!-- walkarounds:end -->';
    const from = doc.indexOf(start);
    const to = doc.indexOf(end);
    expect(from, 'docs/security.md has walkarounds markers').toBeGreaterThan(-1);
    if (process.env['UPDATE_SECURITY_DOC']) {
      writeFileSync('docs/security.md', `${doc.slice(0, from + start.length)}\n${table}\n${doc.slice(to)}`);
      return;
    }
    expect(doc.slice(from + start.length, to).trim()).toBe(table);
  });
});
