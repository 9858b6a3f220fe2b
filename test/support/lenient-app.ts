/**
 * An app that reads requests as leniently as the common app servers do, so that a walk-around
 * shows up as a handler that ran when it should not have. Each reading is one a real server
 * takes: Tomcat and Jetty drop `;` path parameters from every segment before routing; Spring's
 * suffix matching routes `/transfer.json` to `/transfer`; IIS trims trailing dots and spaces;
 * Symfony and IIS route on `X-Original-URL` / `X-Rewrite-URL`; Rails, Laravel and Symfony
 * honour `X-HTTP-Method-Override` and `_method`; CGI/WSGI servers read `X_Riskgate_Subject` as
 * `x-riskgate-subject` (the underscored one last, as the merge order goes).
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HandledRequest {
  /** The handler the app ran: the first path segment it routed to, e.g. 'transfer'. */
  handler: string;
  method: string;
  /** What the app believes about the caller, from x-riskgate-subject as it reads headers. */
  subject: string | undefined;
  clientIp: string | undefined;
  headers: IncomingHttpHeaders;
  rawUrl: string;
}

export interface LenientApp {
  url: string;
  handled: HandledRequest[];
  close(): Promise<void>;
}

/** CGI-style header reading: `_` and `-` are the same, case does not matter, the last one wins. */
function cgiHeader(rawHeaders: string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase().replaceAll('_', '-') === name) value = rawHeaders[i + 1];
  }
  return value;
}

function lenientPath(raw: string): string {
  let path = raw.split('?')[0]!;
  path = path
    .split('/')
    .map((s) => s.split(';')[0]!)
    .join('/');
  // Decoded twice, as some servers and the filters in front of them together do.
  for (let i = 0; i < 2; i++) {
    try {
      path = decodeURIComponent(path);
    } catch {}
  }
  const out: string[] = [];
  for (const s of path.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') out.pop();
    else out.push(s.replace(/[. \t]+$/, '').split('.')[0]!);
  }
  return `/${out.join('/')}`.toLowerCase();
}

export async function startLenientApp(): Promise<LenientApp> {
  const handled: HandledRequest[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const raw = req.rawHeaders;
      const rawUrl = req.url ?? '/';
      const target = cgiHeader(raw, 'x-original-url') ?? cgiHeader(raw, 'x-rewrite-url') ?? rawUrl;
      const query = new URLSearchParams(rawUrl.split('?')[1] ?? '');
      const method =
        cgiHeader(raw, 'x-http-method-override') ??
        cgiHeader(raw, 'x-http-method') ??
        cgiHeader(raw, 'x-method-override') ??
        (req.method === 'POST' ? (query.get('_method') ?? undefined) : undefined) ??
        req.method ??
        'GET';
      const path = lenientPath(target);
      const entry: HandledRequest = {
        handler: path.split('/')[1] ?? '',
        method: method.toUpperCase(),
        subject: cgiHeader(raw, 'x-riskgate-subject'),
        clientIp: cgiHeader(raw, 'x-forwarded-for')?.split(',')[0]?.trim(),
        headers: req.headers,
        rawUrl,
      };
      handled.push(entry);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ handler: entry.handler, method: entry.method }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    handled,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
