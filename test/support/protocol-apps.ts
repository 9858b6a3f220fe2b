/**
 * Apps that speak what injected pods speak, built on the libraries such apps use: a WebSocket
 * server (ws) beside plain HTTP endpoints that stream (server-sent events, chunked answers,
 * uploads), and a gRPC service (@grpc/grpc-js) with unary and streaming methods. Each records
 * what reached it, so a test can say the app never saw a refused request.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { WebSocket, WebSocketServer } from 'ws';

export interface StreamingApp {
  url: string;
  /** Upgrade requests the app saw, with their headers. */
  upgrades: { url: string; headers: IncomingHttpHeaders }[];
  /** Plain requests the app saw. */
  requests: { method: string; url: string; httpVersion: string; headers: IncomingHttpHeaders }[];
  /** WebSockets the app holds open. */
  sockets: Set<WebSocket>;
  /** Resolves the open server-sent event stream's second event. */
  releaseEvents(): void;
  close(): Promise<void>;
}

export async function startStreamingApp(): Promise<StreamingApp> {
  const upgrades: StreamingApp['upgrades'] = [];
  const requests: StreamingApp['requests'] = [];
  const sockets = new Set<WebSocket>();
  let release: () => void = () => {};
  const server: Server = createServer((req: IncomingMessage, res) => {
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      httpVersion: req.httpVersion,
      headers: req.headers,
    });
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('data: first\n\n');
      release = () => res.end('data: second\n\n');
      return;
    }
    if (path === '/upload') {
      const hash = createHash('sha256');
      let bytes = 0;
      req.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        hash.update(chunk);
      });
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ bytes, sha256: hash.digest('hex') }));
      });
      return;
    }
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`hello over HTTP/${req.httpVersion}`);
  });
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has('chat.v1') ? 'chat.v1' : false),
  });
  server.on('upgrade', (req, socket, head) => {
    upgrades.push({ url: req.url ?? '', headers: req.headers });
    if (req.url === '/app-refuses') {
      socket.end(
        'HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 7\r\nconnection: close\r\n\r\nnot you',
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('message', (data, isBinary) => {
        const text = data.toString();
        // "push N": the app sends N MiB as fast as its socket takes them.
        const push = /^push (\d+)$/.exec(text);
        if (push) {
          const chunk = Buffer.alloc(1 << 20, 7);
          for (let i = 0; i < Number(push[1]); i++) ws.send(chunk);
          return;
        }
        ws.send(data, { binary: isBinary });
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    upgrades,
    requests,
    sockets,
    releaseEvents: () => release(),
    close: async () => {
      for (const ws of sockets) ws.terminate();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const json = {
  serialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer) => JSON.parse(bytes.toString()) as unknown,
};

function method(name: string, requestStream: boolean, responseStream: boolean) {
  return {
    path: `/demo.Echo/${name}`,
    requestStream,
    responseStream,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  };
}

/** The demo.Echo service: messages are JSON objects (the gRPC framing and HTTP/2 are real). */
export const ECHO_SERVICE = {
  Unary: method('Unary', false, false),
  Secure: method('Secure', false, false),
  Limited: method('Limited', false, false),
  Count: method('Count', false, true),
  Sum: method('Sum', true, false),
  Chat: method('Chat', true, true),
} as unknown as grpc.ServiceDefinition;

export interface Message {
  text?: string;
  n?: number;
  decision?: string;
}

export interface GrpcApp {
  /** host:port for a gRPC client; http://host:port for the enforcer. */
  target: string;
  url: string;
  /** Calls that reached a handler, by method. */
  calls: string[];
  /** Server-streaming calls the client cancelled, as the app saw them. */
  cancelled: number;
  close(): Promise<void>;
}

export async function startGrpcApp(): Promise<GrpcApp> {
  const server = new grpc.Server();
  const app: GrpcApp = { target: '', url: '', calls: [], cancelled: 0, close: async () => {} };
  const decisionOf = (call: { metadata: grpc.Metadata }) =>
    String(call.metadata.get('x-riskgate-decision')[0] ?? '');
  const unary =
    (name: string) => (call: grpc.ServerUnaryCall<Message, Message>, done: grpc.sendUnaryData<Message>) => {
      app.calls.push(name);
      done(null, { text: call.request.text ?? '', decision: decisionOf(call) });
    };
  server.addService(ECHO_SERVICE, {
    Unary: unary('Unary'),
    Secure: unary('Secure'),
    Limited: unary('Limited'),
    Count: (call: grpc.ServerWritableStream<Message, Message>) => {
      app.calls.push('Count');
      const total = call.request.n ?? 0;
      let i = 0;
      call.on('cancelled', () => {
        app.cancelled++;
      });
      // Written as the stream drains: the client's pace is the app's pace.
      const pump = () => {
        while (i < total && !call.cancelled) {
          if (!call.write({ n: i++ })) {
            call.once('drain', pump);
            return;
          }
        }
        if (!call.cancelled) call.end();
      };
      pump();
    },
    Sum: (call: grpc.ServerReadableStream<Message, Message>, done: grpc.sendUnaryData<Message>) => {
      app.calls.push('Sum');
      let sum = 0;
      call.on('data', (m: Message) => {
        sum += m.n ?? 0;
      });
      call.on('end', () => done(null, { n: sum }));
    },
    Chat: (call: grpc.ServerDuplexStream<Message, Message>) => {
      app.calls.push('Chat');
      call.on('data', (m: Message) => call.write({ text: `echo ${m.text}` }));
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  app.target = `127.0.0.1:${port}`;
  app.url = `http://127.0.0.1:${port}`;
  app.close = () => new Promise<void>((r) => server.tryShutdown(() => r()));
  return app;
}

export const EchoClient = grpc.makeGenericClientConstructor(ECHO_SERVICE, 'Echo');
export { grpc, WebSocket };
