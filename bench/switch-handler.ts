/**
 * Preloaded into an enforcer under test (`--import`, with bench/handler-switch.ts): on SIGUSR2
 * its traffic server takes the handler named in HANDLER_SWITCH_FILE — `enforcer` (its own),
 * `forward` (its own reply and upstream, no decision) or `bare` (the bare proxy's handler). The
 * process, its policy, its port and its server options stay the same; only the request path
 * changes. HANDLER_SWITCH_UPSTREAM is where the stand-in handlers send requests.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { bareNodeHandler } from './bare-forward.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

// The enforcer runs from dist/: the stand-ins use the same compiled modules.
const DIST = join(import.meta.dirname, '../dist/enforcer');
const { NO_HEADER_RULES } = await import(join(DIST, 'proxy/headers.js'));
const { Upstream } = await import(join(DIST, 'proxy/upstream.js'));
const { Reply } = await import(join(DIST, 'listener/reply.js'));

const upstreamUrl = process.env['HANDLER_SWITCH_UPSTREAM']!;
const upstream = new Upstream({ url: upstreamUrl });
let requests = 0;
const handlers: Record<string, Handler> = {
  bare: bareNodeHandler(upstreamUrl),
  forward: (req, res) => {
    const id = `switch-${(requests++).toString(36)}`;
    const reply = new Reply({ id, raw: req }, res);
    void upstream.forward(req, reply, req.url ?? '/', {}, id, NO_HEADER_RULES);
  },
};

const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');
const createServer = http.createServer;
http.createServer = function (this: unknown, ...args: unknown[]) {
  const server = (createServer as (...a: unknown[]) => import('node:http').Server).apply(this, args);
  const options = args[0] as { shouldUpgradeCallback?: unknown } | undefined;
  // The traffic server is the one that decides upgrades; its handler is in place once it returns.
  if (options?.shouldUpgradeCallback !== undefined) {
    setImmediate(() => {
      handlers['enforcer'] = server.listeners('request')[0] as Handler;
      process.on('SIGUSR2', () => {
        const name = readFileSync(process.env['HANDLER_SWITCH_FILE']!, 'utf8').trim();
        server.removeAllListeners('request');
        server.on('request', handlers[name]!);
      });
    });
  }
  return server;
} as typeof http.createServer;
