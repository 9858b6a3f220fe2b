/**
 * What both bare proxies do and nothing more: the enforcer's undici pool and header rules,
 * sending a request on to the app. The proxies differ only in the HTTP server in front of it.
 */
import type { IncomingMessage } from 'node:http';
import type { Dispatcher } from 'undici';
import { Pool, request } from '../enforcer/net/http-client.ts';
import { NO_HEADER_RULES, upstreamRequestHeaders } from '../enforcer/proxy/headers.ts';
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
