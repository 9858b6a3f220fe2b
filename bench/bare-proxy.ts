/**
 * The ceiling for a Node sidecar: fastify in front of the same undici forwarding the enforcer
 * uses, with nothing in between. The enforcer's cost is what it adds over this.
 */
import Fastify from 'fastify';
import { NO_HEADER_RULES } from '../enforcer/proxy/headers.ts';
import { Upstream } from '../enforcer/proxy/upstream.ts';

const [listenPort, upstreamUrl] = [Number(process.argv[2]), process.argv[3]!];
const upstream = new Upstream({ url: upstreamUrl });
const app = Fastify({ logger: false, requestIdHeader: false, disableRequestLogging: true });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', (_request, _payload, done) => done(null));
const handler = async (request: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
  await upstream.forward(request.raw, reply, request.raw.url ?? '/', {}, request.id, NO_HEADER_RULES);
  return reply;
};
app.all('/*', handler);
await app.listen({ host: '127.0.0.1', port: listenPort });
process.stdout.write(`ready ${listenPort}\n`);
// Exit normally on a signal, so --cpu-prof can write its profile.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(0));
