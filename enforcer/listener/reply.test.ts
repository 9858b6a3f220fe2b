/**
 * The traffic port's reply over real sockets: what a client that leaves mid-answer, an app that
 * fails mid-answer, and cookies from both the enforcer and the app do to it.
 */
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Reply } from './reply.ts';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function serve(handler: (reply: Reply) => void): Promise<string> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) =>
    handler(new Reply({ id: 'r-1', raw: req }, res)),
  );
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function get(url: string): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

describe('traffic reply', () => {
  it('stops the source when the client leaves mid-answer (the upstream connection goes back)', async () => {
    const source = new PassThrough();
    const sourceClosed = new Promise<void>((r) => source.once('close', () => r()));
    const url = await serve((reply) => {
      reply.code(200).header('content-type', 'text/plain').send(source);
      source.write('first part\n');
    });
    await new Promise<void>((resolve, reject) => {
      const req = request(url, { agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => {});
      req.on('close', () => {});
      req.end();
      setTimeout(() => reject(new Error('no first bytes')), 5000).unref();
    });
    await sourceClosed;
    expect(source.destroyed).toBe(true);
  });

  it('cuts the client off when the source fails after the head, never leaving it waiting', async () => {
    const url = await serve((reply) => {
      const source = new PassThrough();
      reply.code(200).send(source);
      source.write('partial');
      setTimeout(() => source.destroy(new Error('app went away')), 20);
    });
    await expect(get(url)).rejects.toThrow();
  });

  it("keeps the enforcer's cookies and the app's side by side", async () => {
    const url = await serve((reply) => {
      reply.header('set-cookie', ['rg_clearance=abc; Path=/', 'rg_pow=; Max-Age=0']);
      reply.headers({ 'set-cookie': ['session=app; Path=/'], 'content-type': 'text/plain' });
      reply.send(Readable.from(['ok']));
    });
    const res = await get(url);
    expect(res.headers['set-cookie']).toEqual([
      'rg_clearance=abc; Path=/',
      'rg_pow=; Max-Age=0',
      'session=app; Path=/',
    ]);
    expect(res.body).toBe('ok');
  });

  it('sends once: a second answer to the same request is dropped, not written into the first', async () => {
    const url = await serve((reply) => {
      reply.code(403).header('content-type', 'application/problem+json').send('{"code":"first"}');
      reply.code(200).send('second');
      expect(reply.sent).toBe(true);
      // A stream it will not send is stopped, not left holding its source.
      const unsent = new PassThrough();
      reply.send(unsent);
      expect(unsent.destroyed).toBe(true);
    });
    const res = await get(url);
    expect(res.status).toBe(403);
    expect(res.body).toBe('{"code":"first"}');
    expect(res.headers['content-length']).toBe('16');
  });
});
