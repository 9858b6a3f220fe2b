/** The benchmark's app: 1 KB JSON answers, keep-alive. */
import { createServer } from 'node:http';

const body = JSON.stringify({
  id: 1,
  items: Array.from({ length: 12 }, (_, i) => ({
    sku: `SKU-${1000 + i}`,
    name: `Item number ${i}`,
    price: 1999 + i,
  })),
  note: 'x'.repeat(200),
});
const port = Number(process.argv[2] ?? 0);
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${(server.address() as { port: number }).port}\n`);
});
