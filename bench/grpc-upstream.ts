/** The benchmark's gRPC app: HTTP/2 in cleartext, every call answered with one 64-byte message and grpc-status 0. */
import http2 from 'node:http2';

const payload = Buffer.alloc(64, 0x61);
const message = Buffer.concat([Buffer.from([0, 0, 0, 0, payload.length]), payload]);
const port = Number(process.argv[2] ?? 0);
const server = http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
server.on('stream', (stream) => {
  stream.resume();
  stream.on('end', () => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(message);
  });
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${(server.address() as { port: number }).port}\n`);
});
