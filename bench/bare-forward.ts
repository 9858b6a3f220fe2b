/**
 * What both bare proxies do and nothing more: the enforcer's undici pool and header rules,
 * sending a request on to the app. The proxies differ only in the HTTP server in front of it;
 * the node:http one's handler is here too, for the diagnostics that serve with it elsewhere.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { Pool, request } from '../enforcer/net/http-client.ts';
import {
  downstreamResponseHeaders,
  NO_HEADER_RULES,
  upstreamRequestHeaders,
} from '../enforcer/proxy/headers.ts';
import { hasBody } from '../enforcer/proxy/upstream.ts';

export function bareForward(upstreamUrl: string): (req: IncomingMessage) => Promise<Dispatcher.ResponseData> {
  const pool = new Pool(upstreamUrl, { connections: 128, pipelining: 1, keepAliveTimeout: 30_000 });
  return (req) =>
    request(pool, {
      method: req.method as 'GET',
      path: req.url ?? '/',
      headers: upstreamRequestHeaders(req.headers, req.socket.remoteAddress, {}, NO_HEADER_RULES),
      body: hasBody(req) ? req : null,
    });
}

/** The bare node:http proxy's request handler: forward, then stream the app's answer back. */
export function bareNodeHandler(upstreamUrl: string): (req: IncomingMessage, res: ServerResponse) => void {
  const forward = bareForward(upstreamUrl);
  return (req, res) => {
    forward(req).then(
      (up) => {
        res.writeHead(up.statusCode, downstreamResponseHeaders(up.headers));
        up.body.on('error', () => res.destroy());
        up.body.pipe(res);
      },
      () => {
        res.writeHead(502).end();
      },
    );
  };
}
