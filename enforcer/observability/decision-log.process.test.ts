/**
 * The decision log of a real `riskgate enforce` process: a lone denial's line reaches stdout
 * while the process runs on, with no more traffic to fill the write buffer.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/support/free-port.ts';
import { eventually } from '../../test/support/temp-policy.ts';

const ROOT = join(import.meta.dirname, '../..');
let app: Server;
let enforcer: ChildProcess;
let port: number;
let out = '';

beforeAll(async () => {
  app = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  port = await freePort();
  const admin = await freePort();
  enforcer = spawn(
    process.execPath,
    [
      join(ROOT, 'cli/main.ts'),
      'enforce',
      '--policy',
      join(ROOT, 'examples/quickstart.yaml'),
      '--upstream',
      `http://127.0.0.1:${(app.address() as { port: number }).port}`,
      '--listen',
      `127.0.0.1:${port}`,
      '--admin',
      `127.0.0.1:${admin}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  enforcer.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  let err = '';
  enforcer.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  expect(await eventually(() => err.includes('riskgate enforce: traffic'), 30_000)).toBe(true);
});

afterAll(async () => {
  enforcer?.kill('SIGTERM');
  await new Promise((r) => enforcer?.once('exit', r));
  app?.close();
});

describe('the decision log of a running enforcer', () => {
  it('writes a lone denial out without waiting for more traffic', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/products/1`, {
      headers: { 'x-forwarded-for': '203.0.113.9' },
    });
    expect(res.status).toBe(403);
    const requestId = res.headers.get('x-riskgate-request-id')!;
    // A 4 KB buffer would hold this one line until the process ended.
    expect(await eventually(() => out.includes(requestId), 5000)).toBe(true);
    const line = JSON.parse(out.split('\n').find((l) => l.includes(requestId))!);
    expect(line).toMatchObject({ msg: 'decision', action: 'deny', client: '203.0.113.9' });
    expect(enforcer.exitCode).toBeNull();
  });
});
