/**
 * gRPC and HTTP/2 cleartext through a real enforcer: a real gRPC service and client
 * (@grpc/grpc-js) over HTTP/2 sockets, and curl's HTTP/2 with prior knowledge. Every call is
 * scored on its own; a refused one is answered the way gRPC clients understand (grpc-status),
 * never reaches the app, and every kind of call (unary, client, server and bidirectional
 * streaming) passes when allowed.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricSum } from '../test/support/admin-metrics.ts';
import {
  EchoClient,
  type GrpcApp,
  grpc,
  type Message,
  type StreamingApp,
  startGrpcApp,
  startStreamingApp,
} from '../test/support/protocol-apps.ts';
import { eventually, type TempPolicy, tempPolicy } from '../test/support/temp-policy.ts';
import { startTestEnforcer } from '../test/support/test-enforcer.ts';
import { demoToken } from '../test/support/tokens.ts';
import type { RunningEnforcer } from './enforcer.ts';

const run = promisify(execFile);

const POLICY = `
apiVersion: riskgate.dev/v1alpha1
kind: RiskPolicy
metadata: {name: grpc}
spec:
  selector: {}
  clientIdentity: {trustedProxies: [127.0.0.0/8]}
  authentication:
    jwt:
      - {name: demo, issuer: https://issuer.demo.riskgate.dev, audiences: [shop-api], keysFile: keys/demo-issuer.jwks.json, algorithms: [ES256]}
  routes:
    - {name: secure, methods: [POST], path: /demo.Echo/Secure, authentication: required}
    - {name: limited, methods: [POST], path: /demo.Echo/Limited, sensitivity: medium}
    - {name: echo, methods: [POST], path: /demo.Echo/*, sensitivity: high}
    - {name: admin, methods: [GET], path: /admin/*, authentication: required}
  signals:
    ipReputation:
      weight: 70
      feeds: [{name: bad, file: bad.txt, format: plain, category: botnet}]
  thresholds: {challenge: 40, restrict: 60, deny: 80}
  actions:
    restrict: {allowedMethods: [GET, POST], rateLimit: {requests: 2, per: 1m}}
`;

let grpcApp: GrpcApp;
let httpApp: StreamingApp;
let policy: TempPolicy;
let enforcer: RunningEnforcer;
/** The same policy in front of an HTTP/1.1 app, for HTTP/2 clients of a plain web app. */
let webEnforcer: RunningEnforcer;
let client: InstanceType<typeof EchoClient>;

type Call = (
  req: Message,
  md: grpc.Metadata,
  cb: (err: grpc.ServiceError | null, res?: Message) => void,
) => void;

function unary(name: string, request: Message, metadata: Record<string, string> = {}) {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return new Promise<{ error: grpc.ServiceError | null; response?: Message }>((resolve) => {
    (client as unknown as Record<string, Call>)[name]!.call(client, request, md, (error, response) =>
      resolve({ error, ...(response ? { response } : {}) }),
    );
  });
}

const metric = (name: string) => metricSum(enforcer.adminUrl, name);

beforeAll(async () => {
  grpcApp = await startGrpcApp();
  httpApp = await startStreamingApp();
  policy = tempPolicy(POLICY, { 'bad.txt': '203.0.113.0/24\n' });
  enforcer = await startTestEnforcer(policy.file, grpcApp.url, { upstreamProtocol: 'h2c' });
  webEnforcer = await startTestEnforcer(policy.file, httpApp.url);
  client = new EchoClient(new URL(enforcer.trafficUrl).host, grpc.credentials.createInsecure());
});

afterAll(async () => {
  client?.close();
  await enforcer?.close();
  await webEnforcer?.close();
  await grpcApp?.close();
  await httpApp?.close();
  policy?.remove();
});

describe('a refused call gets a gRPC status, and the app never runs it', () => {
  it('from a blocklisted address → PERMISSION_DENIED (7) with the stable code in the message', async () => {
    const before = grpcApp.calls.length;
    const { error } = await unary('Unary', { text: 'hi' }, { 'x-forwarded-for': '203.0.113.9' });
    expect(error?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(error?.details).toMatch(/^RG_ERR_DENIED \(request [\w-]+\)$/);
    expect(grpcApp.calls.length).toBe(before);
  });

  it('without a token on a method that requires one → UNAUTHENTICATED (16)', async () => {
    const { error } = await unary('Secure', { text: 'hi' });
    expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(error?.details).toMatch(/^RG_ERR_UNAUTHENTICATED/);
    expect(grpcApp.calls).not.toContain('Secure');
  });

  it('with a token that does not verify → UNAUTHENTICATED (16)', async () => {
    const { error } = await unary('Secure', { text: 'hi' }, { authorization: 'Bearer e30.e30.AAAA' });
    expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(grpcApp.calls).not.toContain('Secure');
  });

  it('restricted past its rate limit → RESOURCE_EXHAUSTED (8)', async () => {
    const from = { 'x-forwarded-for': '203.0.113.50' };
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await unary('Limited', { text: `${i}` }, from)).error?.code ?? 0);
    expect(codes).toEqual([0, 0, grpc.status.RESOURCE_EXHAUSTED, grpc.status.RESOURCE_EXHAUSTED]);
  });

  it('a streaming call from a blocklisted address is refused before any message', async () => {
    const md = new grpc.Metadata();
    md.set('x-forwarded-for', '203.0.113.10');
    const call = client['Count']!({ n: 5 }, md) as grpc.ClientReadableStream<Message>;
    const got: Message[] = [];
    call.on('data', (m: Message) => got.push(m));
    const error = await new Promise<grpc.ServiceError>((r) => call.on('error', r));
    expect(error.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(got).toEqual([]);
  });

  it('each call on one connection is scored on its own', async () => {
    const results = await Promise.all([
      unary('Unary', { text: 'a' }),
      unary('Unary', { text: 'b' }, { 'x-forwarded-for': '203.0.113.11' }),
      unary('Unary', { text: 'c' }),
    ]);
    expect(results.map((r) => r.error?.code ?? 0)).toEqual([0, grpc.status.PERMISSION_DENIED, 0]);
  });
});

describe('allowed calls of every kind pass', () => {
  it('unary, with the decision headers as metadata for the app', async () => {
    const { error, response } = await unary('Unary', { text: 'hello' }, { 'x-riskgate-decision': 'forged' });
    expect(error).toBeNull();
    expect(response).toEqual({ text: 'hello', decision: 'allow' });
  });

  it('with a valid token on the protected method', async () => {
    const token = await demoToken({ sub: 'alice' });
    const { error, response } = await unary('Secure', { text: 'x' }, { authorization: `Bearer ${token}` });
    expect(error).toBeNull();
    expect(response?.text).toBe('x');
  });

  it('server streaming: 5,000 messages, paced by the client', async () => {
    const call = client['Count']!({ n: 5000 }, new grpc.Metadata()) as grpc.ClientReadableStream<Message>;
    let count = 0;
    let last = -1;
    call.on('data', (m: Message) => {
      count++;
      last = m.n ?? -1;
    });
    const status = await new Promise<grpc.StatusObject>((r) => call.on('status', r));
    expect(status.code).toBe(grpc.status.OK);
    expect(count).toBe(5000);
    expect(last).toBe(4999);
  });

  it('client streaming', async () => {
    const result = await new Promise<{ error: grpc.ServiceError | null; response?: Message }>((resolve) => {
      const call = client['Sum']!(
        new grpc.Metadata(),
        (error: grpc.ServiceError | null, response?: Message) =>
          resolve({ error, ...(response ? { response } : {}) }),
      ) as grpc.ClientWritableStream<Message>;
      for (let i = 1; i <= 100; i++) call.write({ n: i });
      call.end();
    });
    expect(result.error).toBeNull();
    expect(result.response).toEqual({ n: 5050 });
  });

  it('bidirectional streaming', async () => {
    const call = client['Chat']!(new grpc.Metadata()) as grpc.ClientDuplexStream<Message, Message>;
    const replies: string[] = [];
    call.on('data', (m: Message) => replies.push(m.text ?? ''));
    for (const t of ['one', 'two', 'three']) call.write({ text: t });
    call.end();
    await new Promise((r) => call.on('status', r));
    expect(replies).toEqual(['echo one', 'echo two', 'echo three']);
  });

  it('a client that cancels a stream cancels it at the app', async () => {
    const before = grpcApp.cancelled;
    const call = client['Count']!(
      { n: 10_000_000 },
      new grpc.Metadata(),
    ) as grpc.ClientReadableStream<Message>;
    await new Promise((r) => call.once('data', r));
    call.on('error', () => {});
    call.cancel();
    expect(await eventually(() => grpcApp.cancelled > before, 5000)).toBe(true);
  });

  it('an HTTP/1.1 client of the HTTP/2 app: its body reaches the app, the status arrives as trailers', async () => {
    const message = Buffer.from(JSON.stringify({ text: 'over h1' }));
    const framed = Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]);
    const { request } = await import('node:http');
    const result = await new Promise<{ body: Buffer; trailers: Record<string, string | undefined> }>(
      (resolve, reject) => {
        const req = request(
          `${enforcer.trafficUrl}/demo.Echo/Unary`,
          { method: 'POST', headers: { 'content-type': 'application/grpc', te: 'trailers' } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (d: Buffer) => chunks.push(d));
            res.on('end', () => resolve({ body: Buffer.concat(chunks), trailers: res.trailers }));
          },
        );
        req.on('error', reject);
        // Written in two pieces, the way a streaming client sends, so the body has no length.
        req.write(framed.subarray(0, 3));
        setTimeout(() => req.end(framed.subarray(3)), 50);
      },
    );
    expect(result.trailers['grpc-status']).toBe('0');
    expect(JSON.parse(result.body.subarray(5).toString())).toEqual({ text: 'over h1', decision: 'allow' });
  });

  it('calls are counted as gRPC streams', async () => {
    expect(await metric('riskgate_http2_streams_total{protocol="grpc"}')).toBeGreaterThan(5);
  });
});

describe('HTTP/2 with prior knowledge, to an HTTP/1.1 app (curl)', () => {
  const curl = (args: string[]) =>
    run('curl', ['-sS', '--http2-prior-knowledge', '--max-time', '10', ...args], { encoding: 'utf8' });

  it('an allowed request is answered over HTTP/2; the app sees HTTP/1.1 with the Host', async () => {
    const before = httpApp.requests.length;
    const { stdout } = await curl([
      '-w',
      '\\n%{http_version} %{response_code}',
      `${webEnforcer.trafficUrl}/hello`,
    ]);
    expect(stdout).toBe('hello over HTTP/1.1\n2 200');
    const seen = httpApp.requests.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers['host']).toBe(new URL(webEnforcer.trafficUrl).host);
    expect(Object.keys(seen[0]!.headers).some((h) => h.startsWith(':'))).toBe(false);
  });

  it('a refused request is a problem document over HTTP/2', async () => {
    const { stdout } = await curl([
      '-H',
      'x-forwarded-for: 203.0.113.12',
      '-w',
      '\\n%{http_version} %{response_code}',
      `${webEnforcer.trafficUrl}/admin/x`,
    ]);
    const [body, line] = stdout.split('\n');
    expect(line).toBe('2 401');
    expect(JSON.parse(body!)).toMatchObject({ code: 'RG_ERR_UNAUTHENTICATED' });
  });

  it('an upload over HTTP/2 reaches the app whole', async () => {
    const { stdout } = await curl(['--data-binary', 'x'.repeat(100_000), `${webEnforcer.trafficUrl}/upload`]);
    expect(JSON.parse(stdout)).toMatchObject({ bytes: 100_000 });
  });

  it('HTTP/1.1 still works on the same port', async () => {
    const res = await fetch(`${webEnforcer.trafficUrl}/hello`);
    expect(await res.text()).toBe('hello over HTTP/1.1');
  });
});
