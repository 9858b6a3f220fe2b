/**
 * The demo's app: a tiny shop API that knows nothing about risk. It serves products, checks
 * passwords on POST /login (401 when wrong) and accepts transfers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const DEMO_PASSWORD = 'correct-horse-battery-staple';

const product = (id: string) =>
  JSON.stringify({
    id,
    name: `Product ${id}`,
    description:
      'A perfectly ordinary product, described at some length so the response is about a kilobyte. '.repeat(
        8,
      ),
    price: { amount: 1999, currency: 'EUR' },
  });

export async function startShopApp(): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
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
          ok = typeof body.username === 'string' && body.password === DEMO_PASSWORD;
        } catch {}
        res.statusCode = ok ? 200 : 401;
        res.end(JSON.stringify(ok ? { session: 'demo-session' } : { error: 'invalid credentials' }));
        return;
      }
      if (req.method === 'POST' && path === '/transfer') {
        res.end(JSON.stringify({ transfer: 'accepted' }));
        return;
      }
      if (path.startsWith('/products/')) {
        res.end(product(path.slice('/products/'.length)));
        return;
      }
      res.end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
