/**
 * The ceiling for gRPC through a Node sidecar: fastify serving HTTP/2 in cleartext in front of
 * the same HTTP/2 forwarding the enforcer uses (proxy/http2-upstream.ts), with nothing in between.
 */
import Fastify from 'fastify';
import { NO_HEADER_RULES } from '../enforcer/proxy/headers.ts';
import { Http2Upstream } from '../enforcer/proxy/http2-upstream.ts';

const [listenPort, upstreamUrl] = [Number(process.argv[2]), process.argv[3]!];
const upstream = new Http2Upstream({ url: upstreamUrl });
const app = Fastify({ http2: true, logger: false, requestIdHeader: false, disableRequestLogging: true });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', (_request, _payload, done) => done(null));
app.all('/*', async (request, reply) => {
  // The HTTP/2 request and reply stand in for their HTTP/1.1 types, as in the enforcer.
  await upstream.forward(
    request.raw as never,
    reply as never,
    request.raw.url ?? '/',
    {},
    request.id,
    NO_HEADER_RULES,
  );
  return reply;
});
await app.listen({ host: '127.0.0.1', port: listenPort });
process.stdout.write(`ready ${listenPort}\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(0));
