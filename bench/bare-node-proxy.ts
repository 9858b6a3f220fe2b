/**
 * A bare proxy without fastify: Node's `http` server in front of the same undici forwarding,
 * nothing in between. Beside the bare fastify proxy it shows what fastify's routing and reply
 * machinery cost per request, and so where the enforcer's distance to a Go proxy lives.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { nodeHttp } from '../enforcer/net/http-client.ts';
import { downstreamResponseHeaders } from '../enforcer/proxy/headers.ts';
import { bareForward } from './bare-forward.ts';
import { reportStallsOnSignal } from './loop-stall-report.ts';

const [listenPort, upstreamUrl] = [Number(process.argv[2]), process.argv[3]!];
const forward = bareForward(upstreamUrl);

function handle(req: IncomingMessage, res: ServerResponse): void {
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
}

const server = nodeHttp.createServer({ keepAliveTimeout: 65_000 }, handle);
server.listen(listenPort, '127.0.0.1', () => process.stdout.write(`ready ${listenPort}\n`));
// BENCH_LOOP_MONITOR=1: the stall control of bench/feed-refresh-under-load.ts, its loop watched
// every 1 ms as the enforcer's is there.
if (process.env['BENCH_LOOP_MONITOR'] === '1') reportStallsOnSignal(1);
// Exit normally on a signal, so --cpu-prof can write its profile.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(0));
