/**
 * The traffic port while it stops, over real sockets: a request in flight is answered by the
 * app; one that arrives behind it gets 503 with the connection closed, so the client retries
 * elsewhere instead of waiting on a sidecar that is going away. A request Node cannot parse gets
 * a problem document, not a bare status line.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawExchange } from '../test/support/raw-http.ts';
import { type TempPolicy, tempPolicy } from '../test/support/temp-policy.ts';
import { startTestEnforcer } from '../test/support/test-enforcer.ts';
import type { RunningEnforcer } from './enforcer.ts';

const POLICY = `apiVersion: riskgate.dev/v1alpha1
kind: RiskPolicy
metadata: {name: shop, namespace: prod}
spec:
  selector: {matchLabels: {app: shop}}
  routes:
    - {name: all, methods: [GET], path: /*}
`;

let app: Server;
let appUrl: string;
let policy: TempPolicy;

beforeAll(async () => {
  app = createServer((req, res) => {
    const delay = req.url === '/slow' ? 300 : 0;
    setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end(`app ${req.url}`), delay);
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  policy = tempPolicy(POLICY);
});
afterAll(() => {
  app.close();
  policy.remove();
});

describe('traffic port', () => {
  it('finishes the request in flight and answers the next one 503 with the connection closed while stopping', async () => {
    const enforcer: RunningEnforcer = await startTestEnforcer(policy.file, appUrl);
    // Two requests pipelined on one connection: the second reaches the server behind the first.
    const client = new Client(enforcer.trafficUrl, { pipelining: 2 });
    const slow = client.request({ method: 'GET', path: '/slow' });
    const next = client.request({ method: 'GET', path: '/next' });
    await new Promise((r) => setTimeout(r, 100));
    const closing = enforcer.close();
    const first = await slow;
    expect(first.statusCode).toBe(200);
    expect(await first.body.text()).toBe('app /slow');
    const second = await next;
    expect(second.statusCode).toBe(503);
    expect(second.headers['connection']).toBe('close');
    expect(((await second.body.json()) as { code: string }).code).toBe('RG_ERR_NOT_READY');
    await closing;
    await client.close().catch(() => {});
  });

  it('answers a request line it cannot parse with 400 and a problem document, then closes', async () => {
    const enforcer: RunningEnforcer = await startTestEnforcer(policy.file, appUrl);
    const { port } = new URL(enforcer.trafficUrl);
    const { text: answer, closed } = await rawExchange(Number(port), 'GET /a b c HTTP/1.1\r\n\r\n', 10_000);
    expect(closed).toBe(true);
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answer).toContain('content-type: application/problem+json');
    expect(answer).toContain('"status":400');
    expect(answer).toContain('"code":"RG_ERR_BAD_REQUEST"');
    await enforcer.close();
  });

  it('answers headers over the limit with 431 and its code', async () => {
    const enforcer: RunningEnforcer = await startTestEnforcer(policy.file, appUrl);
    const { port } = new URL(enforcer.trafficUrl);
    const { text: answer, closed } = await rawExchange(
      Number(port),
      `GET / HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
      10_000,
    );
    expect(closed).toBe(true);
    expect(answer).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(answer).toContain('"code":"RG_ERR_HEADERS_TOO_LARGE"');
    await enforcer.close();
  });
});
