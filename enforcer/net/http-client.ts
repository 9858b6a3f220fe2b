/**
 * The parts of undici the enforcer uses — a connection pool for the app, an agent for feed
 * URLs, the request call and the error classes — loaded without undici's index. The index also
 * loads undici's fetch, WebSocket and cache, and through them Node's own bundled copy of undici,
 * worker_threads and web streams: about 8 MB of every sidecar's resident memory (measured,
 * bench/README.md) for code the enforcer never runs. undici is pinned to an exact version in
 * package.json, and the forwarding and feed tests go through these paths, so a release that
 * moves them fails the tests instead of a sidecar.
 */
import { createRequire } from 'node:module';
import type { Agent as AgentType, Dispatcher, errors as ErrorsType, Pool as PoolType } from 'undici';

const load = createRequire(import.meta.url);

export const Pool = load('undici/lib/dispatcher/pool.js') as typeof PoolType;
export const Agent = load('undici/lib/dispatcher/agent.js') as typeof AgentType;
export const undiciErrors = load('undici/lib/core/errors.js') as typeof ErrorsType;
const requestOn = load('undici/lib/api/api-request.js') as (
  this: Dispatcher,
  options: Dispatcher.RequestOptions,
) => Promise<Dispatcher.ResponseData>;

/** `dispatcher.request(options)`, which undici's index would have attached to every dispatcher. */
export function request(
  dispatcher: Dispatcher,
  options: Dispatcher.RequestOptions,
): Promise<Dispatcher.ResponseData> {
  return requestOn.call(dispatcher, options);
}

/**
 * Node's `http`, required rather than imported: an ESM import of it builds its namespace, whose
 * lazy `WebSocket` and `fetch` members load Node's bundled undici (see above).
 */
export const nodeHttp = load('node:http') as typeof import('node:http');
