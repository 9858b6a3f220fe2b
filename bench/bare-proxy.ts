/**
 * A bare proxy on fastify: fastify's catch-all route in front of the same undici pool and header
 * rules the enforcer uses, with nothing in between. Beside the bare node:http proxy it shows what
 * fastify's routing and reply machinery cost per request (the enforcer's traffic port left
 * fastify for that, bench/README.md).
 */
import Fastify from 'fastify';
import { nodeHttp } from '../enforcer/net/http-client.ts';
import { downstreamResponseHeaders } from '../enforcer/proxy/headers.ts';
import { bareForward } from './bare-forward.ts';

const [listenPort, upstreamUrl] = [Number(process.argv[2]), process.argv[3]!];
const forward = bareForward(upstreamUrl);
const app = Fastify({
  logger: false,
  requestIdHeader: false,
  disableRequestLogging: true,
  serverFactory: (handler) => nodeHttp.createServer({ keepAliveTimeout: 65_000 }, handler),
});
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', (_request, _payload, done) => done(null));
app.all('/*', async (req, reply) => {
  const up = await forward(req.raw);
  up.body.on('error', () => reply.raw.destroy());
  return reply.code(up.statusCode).headers(downstreamResponseHeaders(up.headers)).send(up.body);
});
await app.listen({ host: '127.0.0.1', port: listenPort });
process.stdout.write(`ready ${listenPort}\n`);
// Exit normally on a signal, so --cpu-prof can write its profile.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(0));
