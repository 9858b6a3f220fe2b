import { connect } from 'node:net';

/**
 * Sends raw bytes on a fresh connection to a loopback port; resolves with everything the server
 * wrote back (latin1) when it closes the connection — `closed` — or after `waitMs`.
 */
export function rawExchange(
  port: number,
  bytes: string | Buffer,
  waitMs = 1500,
): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let out = '';
    const done = () => {
      socket.destroy();
      resolve({ text: out, closed: false });
    };
    const timer = setTimeout(done, waitMs);
    socket.on('data', (d) => {
      out += d.toString('latin1');
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: out, closed: true });
    });
    socket.on('error', () => {});
    socket.write(bytes);
  });
}
