/**
 * Hostile HTTP against the real enforcer over raw sockets, with a real app behind it that
 * records every request it receives. A desynchronised proxy shows up as a request the app was
 * never meant to see. The observed results are the table in docs/security.md: this test checks
 * that table and, with UPDATE_SECURITY_DOC=1, rewrites it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawExchange } from '../test/support/raw-http.ts';
import { type RecordingUpstream, startRecordingUpstream } from '../test/support/recording-upstream.ts';
import { eventually, type TempPolicy, tempPolicy } from '../test/support/temp-policy.ts';
import { startTestEnforcer } from '../test/support/test-enforcer.ts';
import type { RunningEnforcer } from './enforcer.ts';

const POLICY = `
apiVersion: riskgate.dev/v1alpha1
kind: RiskPolicy
metadata: {name: hostile}
spec:
  selector: {}
  routes:
    - {name: transfer, methods: [POST, GET], path: /transfer, sensitivity: critical, authentication: required}
  authentication:
    jwt:
      - {name: demo, issuer: https://issuer.demo.riskgate.dev, audiences: [shop-api], keysFile: keys/demo-issuer.jwks.json, algorithms: [ES256]}
`;

let upstream: RecordingUpstream;
let policy: TempPolicy;
let enforcer: RunningEnforcer;
let port: number;
const rows: { probe: string; expected: string; observed: string; reachedApp: number }[] = [];

/** Sends raw bytes on a fresh connection; resolves with everything the server wrote back. */
const raw = async (bytes: string | Buffer, waitMs = 1500) => (await rawExchange(port, bytes, waitMs)).text;

const statuses = (response: string) => [...response.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));

async function probe(
  name: string,
  bytes: string | Buffer,
  expected: number[] | ((s: number[]) => boolean),
  label: string,
) {
  const before = upstream.requests.length;
  const response = await raw(bytes);
  await new Promise((r) => setTimeout(r, 50));
  const got = statuses(response);
  const reachedApp = upstream.requests.length - before;
  rows.push({
    probe: name,
    expected: label,
    observed: got.length ? got.join(', ') : 'connection closed',
    reachedApp,
  });
  if (typeof expected === 'function') expect(expected(got), `${name}: ${got}`).toBe(true);
  else expect(got, name).toEqual(expected);
  return reachedApp;
}

beforeAll(async () => {
  upstream = await startRecordingUpstream();
  policy = tempPolicy(POLICY);
  enforcer = await startTestEnforcer(policy.file, upstream.url, {
    headersTimeoutMs: 1500,
    requestTimeoutMs: 3000,
    maxConnections: 64,
  });
  port = Number(new URL(enforcer.trafficUrl).port);
});

afterAll(async () => {
  await enforcer?.close();
  await upstream?.close();
  policy?.remove();
});

const H = 'Host: app\r\n';

describe('request smuggling probes never desynchronise the enforcer from the app', () => {
  it('CL.TE: Content-Length and Transfer-Encoding together', async () => {
    const reached = await probe(
      'Content-Length + Transfer-Encoding',
      `POST /a HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG`,
      [400],
      '400, nothing forwarded',
    );
    expect(reached).toBe(0);
  });

  it('duplicate, differing Content-Length', async () => {
    expect(
      await probe(
        'duplicate Content-Length',
        `POST /a HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 30\r\n\r\nabc`,
        [400],
        '400, nothing forwarded',
      ),
    ).toBe(0);
  });

  it.each([
    ['Transfer-Encoding: xchunked', 'obfuscated Transfer-Encoding (xchunked)'],
    ['Transfer-Encoding : chunked', 'space before the colon'],
    ['Transfer-Encoding: chunked\r\nTransfer-Encoding: identity', 'two Transfer-Encodings'],
    ['Transfer-Encoding:\tchunked, identity', 'chunked not last'],
  ])('%s', async (header, name) => {
    const reached = await probe(
      name,
      `POST /a HTTP/1.1\r\n${H}${header}\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n${H}\r\n`,
      (s) => s[0] === 400,
      '400, nothing forwarded',
    );
    expect(reached).toBe(0);
    expect(upstream.requests.some((r) => r.url === '/smuggled')).toBe(false);
  });

  it('bare LF line endings', async () => {
    const reached = await probe(
      'bare LF line endings',
      `GET /lf HTTP/1.1\n${H.replace('\r\n', '\n')}\n`,
      (s) => s[0] === 400,
      '400, nothing forwarded',
    );
    expect(reached).toBe(0);
  });

  it.each([
    ['0x5', 'hex prefix in chunk size'],
    ['fffffffffffffffffff', 'chunk size overflow'],
    ['-5', 'negative chunk size'],
  ])('chunk size %s', async (size, name) => {
    expect(
      await probe(
        name,
        `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${size}\r\nhello\r\n0\r\n\r\n`,
        (s) => s[0] === 400,
        '400, nothing forwarded',
      ),
    ).toBe(0);
  });

  it('pipelined requests stay two requests, in order', async () => {
    const before = upstream.requests.length;
    const reached = await probe(
      'two pipelined requests',
      `GET /one HTTP/1.1\r\n${H}\r\nGET /two HTTP/1.1\r\n${H}\r\n`,
      [200, 200],
      '200, 200; each forwarded once',
    );
    expect(reached).toBe(2);
    expect(upstream.requests.slice(before).map((r) => r.url)).toEqual(['/one', '/two']);
  });

  it('a client that half-closes after its request still gets the answer', async () => {
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let out = '';
      socket.on('data', (d) => {
        out += d.toString();
      });
      socket.on('close', () => resolve(out));
      socket.end(`GET /half HTTP/1.1\r\n${H}\r\n`);
    });
    rows.push({
      probe: 'half-closed client (FIN after the request)',
      expected: '200',
      observed: statuses(answer).join(', ') || 'connection closed',
      reachedApp: 1,
    });
    expect(statuses(answer)).toEqual([200]);
  });

  it('a chunked body arrives whole and alone', async () => {
    const before = upstream.requests.length;
    await probe(
      'chunked body with extension',
      `POST /body HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\n\r\n`,
      [200],
      '200, body intact',
    );
    expect(upstream.requests.slice(before).map((r) => [r.url, r.body.toString()])).toEqual([
      ['/body', 'hello'],
    ]);
  });
});

describe('oversized and malformed requests get a 4xx, never a crash', () => {
  it('oversized headers → 431', async () => {
    expect(
      await probe(
        '20 KB of headers',
        `GET /a HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        [431],
        '431',
      ),
    ).toBe(0);
  });

  it('a long URL → 414', async () => {
    expect(await probe('9 KB URL', `GET /${'a'.repeat(9000)} HTTP/1.1\r\n${H}\r\n`, [414], '414')).toBe(0);
  });

  it('invalid header characters → 400', async () => {
    expect(
      await probe(
        'NUL in a header value',
        Buffer.from(`GET /a HTTP/1.1\r\n${H}X-Bad: a\0b\r\n\r\n`, 'latin1'),
        [400],
        '400',
      ),
    ).toBe(0);
    expect(
      await probe('space in a header name', `GET /a HTTP/1.1\r\n${H}X Bad: a\r\n\r\n`, [400], '400'),
    ).toBe(0);
  });

  it('absolute-form and dot segments cannot route around a stricter rule', async () => {
    for (const target of ['http://evil.example/transfer', '/x/%2e%2e/transfer', '//transfer', '/TRANSFER']) {
      expect(
        await probe(
          `target ${target}`,
          `GET ${target} HTTP/1.1\r\n${H}\r\n`,
          [401],
          '401 (the /transfer rule)',
        ),
      ).toBe(0);
    }
    expect(await probe('encoded slash', `GET /a%2ftransfer HTTP/1.1\r\n${H}\r\n`, [400], '400')).toBe(0);
  });
});

describe('slow and many clients', () => {
  it('a slowloris connection is closed while other clients are served', async () => {
    const slow = connect(port, '127.0.0.1');
    let closed = false;
    let answer = '';
    slow.on('data', (d) => {
      answer += d.toString();
    });
    slow.on('close', () => {
      closed = true;
    });
    slow.on('error', () => {});
    slow.write(`GET /slow HTTP/1.1\r\n${H}`);
    const drip = setInterval(() => slow.write('X-Drip: 1\r\n'), 200);
    const normal = statuses(await raw(`GET /fast HTTP/1.1\r\n${H}Connection: close\r\n\r\n`));
    expect(normal).toEqual([200]);
    const wasClosed = await eventually(() => closed, 8000, 100);
    clearInterval(drip);
    slow.destroy();
    rows.push({
      probe: 'slow headers (slowloris)',
      expected: 'closed after headersTimeout; others served',
      observed: `${statuses(answer).join(', ') || 'closed'}; others 200`,
      reachedApp: 0,
    });
    expect(wasClosed).toBe(true);
  });

  it('connections beyond the limit are refused and the enforcer keeps serving', async () => {
    const sockets = Array.from({ length: 80 }, () => connect(port, '127.0.0.1').on('error', () => {}));
    await new Promise((r) => setTimeout(r, 300));
    const closedCount = sockets.filter((s) => s.destroyed || s.readyState === 'closed').length;
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const after = statuses(await raw(`GET /after HTTP/1.1\r\n${H}Connection: close\r\n\r\n`));
    rows.push({
      probe: '80 idle connections (limit 64)',
      expected: 'the excess closed; then 200',
      observed: `${closedCount >= 16 ? 'the excess closed' : `only ${closedCount} closed`}; then ${after.join(', ')}`,
      reachedApp: 1,
    });
    expect(closedCount).toBeGreaterThanOrEqual(16);
    expect(after).toEqual([200]);
  });
});

describe('docs/security.md', () => {
  it('shows the probe table these tests observed', () => {
    const table = [
      '| probe | expected | observed | reached the app |',
      '| --- | --- | --- | ---: |',
      ...rows.map(
        (r) => `| ${r.probe.replaceAll('|', '\\|')} | ${r.expected} | ${r.observed} | ${r.reachedApp} |`,
      ),
    ].join('\n');
    const doc = readFileSync('docs/security.md', 'utf8');
    const start = '<!-- probes:start -->';
    const end = '<!-- probes:end -->';
    const current = doc.slice(doc.indexOf(start) + start.length, doc.indexOf(end)).trim();
    if (process.env['UPDATE_SECURITY_DOC']) {
      writeFileSync(
        'docs/security.md',
        `${doc.slice(0, doc.indexOf(start) + start.length)}\n${table}\n${doc.slice(doc.indexOf(end))}`,
      );
      return;
    }
    expect(current).toBe(table);
  });
});
