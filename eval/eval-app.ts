/** The evaluation's app: passwords, orders (ids ≥ 1000 do not exist), products, transfers. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function startEvalApp(passwords: Map<string, string>) {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      const path = (req.url ?? '/').split('?')[0]!;
      if (req.method === 'POST' && path === '/login') {
        let ok = false;
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          ok = passwords.get(body.username) === body.password;
        } catch {}
        res.statusCode = ok ? 200 : 401;
        res.end(ok ? '{"ok":true}' : '{"error":"invalid credentials"}');
        return;
      }
      const order = /^\/orders\/(\d+)$/.exec(path);
      if (order) {
        const id = Number(order[1]);
        res.statusCode = id < 1000 ? 200 : 404;
        res.end(id < 1000 ? JSON.stringify({ id, total: 42 }) : '{"error":"not found"}');
        return;
      }
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
