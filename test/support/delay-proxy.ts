/**
 * A loopback TCP proxy that delays chunks in both directions: a slow network to Redis. `delayMs`
 * sees each chunk and its direction, so a test can hold back one kind of command (and, as a
 * stalled connection would, everything sent after it).
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
    // Bytes keep their order, as on a real connection: a chunk held back holds back every
    // chunk after it in that direction (a stalled Redis, not one that answers out of turn).
    const pipe = (from: Socket, to: Socket) => {
      let releasedBy = 0;
      from.on('data', (chunk: Buffer) => {
        const now = Date.now();
        const at = Math.max(now + delayMs(chunk, from === client), releasedBy);
        releasedBy = at;
        if (at <= now) to.write(chunk);
        else setTimeout(() => to.writable && to.write(chunk), at - now);
      });
    };
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
