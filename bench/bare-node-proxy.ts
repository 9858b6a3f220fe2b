/**
 * A bare proxy without fastify: Node's `http` server in front of the same undici forwarding,
 * nothing in between. Beside the bare fastify proxy it shows what fastify's routing and reply
 * machinery cost per request, and so where the enforcer's distance to a Go proxy lives.
 */
import { nodeHttp } from '../enforcer/net/http-client.ts';
import { bareNodeHandler } from './bare-forward.ts';
import { reportStallsOnSignal } from './loop-stall-report.ts';

const [listenPort, upstreamUrl] = [Number(process.argv[2]), process.argv[3]!];
const handle = bareNodeHandler(upstreamUrl);

const server = nodeHttp.createServer({ keepAliveTimeout: 65_000 }, handle);
server.listen(listenPort, '127.0.0.1', () => process.stdout.write(`ready ${listenPort}\n`));
// BENCH_LOOP_MONITOR=1: the stall control of bench/feed-refresh-under-load.ts, its loop watched
// every 1 ms as the enforcer's is there.
if (process.env['BENCH_LOOP_MONITOR'] === '1') reportStallsOnSignal(1);
// Exit normally on a signal, so --cpu-prof can write its profile.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(0));
