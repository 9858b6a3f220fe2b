/**
 * The OWASP Core Rule Set regression corpus (~5,000 requests: SQLi, XSS, RCE, protocol abuse and
 * benign look-alikes; test/fixtures/crs-regression, Apache-2.0) replayed through a real enforcer
 * over raw sockets. Riskgate is not a WAF: what it owes this corpus is to answer every request —
 * no crash, no hang, no 5xx of its own. The summary is checked against docs/security.md.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type RecordingUpstream, startRecordingUpstream } from '../test/support/recording-upstream.ts';
import { type TempPolicy, tempPolicy } from '../test/support/temp-policy.ts';
import { startTestEnforcer } from '../test/support/test-enforcer.ts';
import type { RunningEnforcer } from './enforcer.ts';

const CORPUS = 'test/fixtures/crs-regression';

interface Input {
  method?: string;
  uri?: string;
  version?: string;
  headers?: Record<string, string | number>;
  data?: string | string[];
  encoded_request?: string;
  autocomplete_headers?: boolean;
}

function requests(): Buffer[] {
  const out: Buffer[] = [];
  const files = readdirSync(CORPUS, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  for (const file of files) {
    const doc = parse(readFileSync(join(CORPUS, file), 'utf8'), { uniqueKeys: false }) as {
      tests?: { stages?: { input?: Input }[] }[];
    };
    for (const test of doc?.tests ?? []) {
      for (const stage of test.stages ?? []) {
        const input = stage.input ?? {};
        if (input.encoded_request) {
          out.push(Buffer.from(input.encoded_request.replace(/\s+/g, ''), 'base64'));
          continue;
        }
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(input.headers ?? {})) headers[k] = String(v);
        const body = Array.isArray(input.data) ? input.data.join('\r\n') : (input.data ?? '');
        const names = Object.keys(headers).map((h) => h.toLowerCase());
        if (input.autocomplete_headers !== false) {
          if (!names.includes('host')) headers['Host'] = 'localhost';
          if (body && !names.includes('content-length') && !names.includes('transfer-encoding')) {
            headers['Content-Length'] = String(Buffer.byteLength(body, 'latin1'));
          }
          if (!names.includes('connection')) headers['Connection'] = 'close';
        }
        const head = `${input.method ?? 'GET'} ${input.uri ?? '/'} ${input.version ?? 'HTTP/1.1'}\r\n${Object.entries(
          headers,
        )
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('')}\r\n`;
        out.push(Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(body, 'latin1')]));
      }
    }
  }
  return out;
}

let upstream: RecordingUpstream;
let policy: TempPolicy;
let enforcer: RunningEnforcer;

beforeAll(async () => {
  upstream = await startRecordingUpstream();
  upstream.respond = (_req, res) => res.end('ok');
  policy = tempPolicy(`
apiVersion: riskgate.dev/v1alpha1
kind: RiskPolicy
metadata: {name: corpus}
spec:
  selector: {}
  routes:
    - {name: login, methods: [POST], path: /login, role: login}
  signals:
    credentialStuffing: {}
`);
  enforcer = await startTestEnforcer(policy.file, upstream.url, {
    headersTimeoutMs: 2000,
    requestTimeoutMs: 2000,
  });
});

afterAll(async () => {
  await enforcer?.close();
  await upstream?.close();
  policy?.remove();
});

type Result = 'app' | '4xx' | 'ours-5xx' | 'closed' | 'hung';

function send(port: number, bytes: Buffer): Promise<Result> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    let settled = false;
    const finish = (r: Result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const classify = (): Result => {
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1] ?? 0);
      if (status === 0) return 'closed';
      if (status >= 500) return 'ours-5xx';
      if (status >= 400) return '4xx';
      return 'app';
    };
    // The enforcer's own request timeout is 2 s: an answer or a close must come well within 6 s.
    const timer = setTimeout(() => finish(data ? classify() : 'hung'), 6000);
    socket.on('data', (d) => {
      data += d.toString('latin1');
      if (/\r\n\r\n/.test(data)) finish(classify());
    });
    socket.on('close', () => finish(classify()));
    socket.on('error', () => finish(classify()));
    // Half-close after the request, as scanners do: the answer must still come back.
    socket.end(bytes);
  });
}

describe('OWASP CRS regression corpus', () => {
  it('is answered request by request: no crash, no hang, no 5xx of our own', async () => {
    const all = requests();
    expect(all.length).toBeGreaterThan(4500);
    const port = Number(new URL(enforcer.trafficUrl).port);
    const counts: Record<Result, number> = { app: 0, '4xx': 0, 'ours-5xx': 0, closed: 0, hung: 0 };
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < all.length) {
          const bytes = all[next++]!;
          counts[await send(port, bytes)]++;
        }
      }),
    );
    // Still alive and serving.
    const health = await fetch(`${enforcer.adminUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(counts['ours-5xx']).toBe(0);
    expect(counts.hung).toBe(0);

    const summary = `${all.length} requests: ${counts.app} reached the app, ${counts['4xx']} refused with a 4xx, ${counts.closed} closed by the parser without a response (unparseable framing), ${counts['ours-5xx']} 5xx of our own, ${counts.hung} hung.`;
    const doc = readFileSync('docs/security.md', 'utf8');
    const start = '<!-- corpus:start -->';
    const end = '<!-- corpus:end -->';
    if (process.env['UPDATE_SECURITY_DOC']) {
      writeFileSync(
        'docs/security.md',
        `${doc.slice(0, doc.indexOf(start) + start.length)}\n${summary}\n${doc.slice(doc.indexOf(end))}`,
      );
      return;
    }
    expect(doc.slice(doc.indexOf(start) + start.length, doc.indexOf(end)).trim()).toBe(summary);
  }, 180_000);
});
