/**
 * A real HTTP app for tests: records exactly what arrives (method, URL, headers, body) and
 * answers as the test says.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type Responder = (req: RecordedRequest, res: ServerResponse) => void;

export interface RecordingUpstream {
  url: string;
  server: Server;
  requests: RecordedRequest[];
  respond: Responder;
  close(): Promise<void>;
}

const defaultResponder: Responder = (req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ ok: true, path: req.url }));
};

export async function startRecordingUpstream(host = '127.0.0.1', listenPort = 0): Promise<RecordingUpstream> {
  const state: RecordingUpstream = {
    url: '',
    server: undefined as unknown as Server,
    requests: [],
    respond: defaultResponder,
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      state.requests.push(recorded);
      state.respond(recorded, res);
    });
  });
  state.server = server;
  await new Promise<void>((resolve) => server.listen(listenPort, host, resolve));
  const { port } = server.address() as AddressInfo;
  state.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
