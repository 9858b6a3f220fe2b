/**
 * A loopback TCP proxy that delays chunks in both directions: a slow network to Redis. `delayMs`
 * sees each chunk and its direction, so a test can slow one kind of command and not the rest.
 */

import type { AddressInfo } from 'node:net';
import { connect, createServer, type Socket } from 'node:net';

export async function startDelayProxy(
  targetPort: number,
  delayMs: (chunk: Buffer, toTarget: boolean) => number,
) {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const pipe = (from: Socket, to: Socket) =>
      from.on('data', (chunk: Buffer) => {
        const d = delayMs(chunk, from === client);
        if (d <= 0) to.write(chunk);
        else setTimeout(() => to.writable && to.write(chunk), d);
      });
    pipe(client, upstream);
    pipe(upstream, client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
