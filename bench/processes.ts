/** Processes of the benchmark, each pinned to a core, stopped when the run ends. */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LOAD_CORE = '0';
export const SUT_CORE = '1';
const NODE = process.execPath;

export const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

export function pinned(
  core: string,
  command: string,
  args: string[],
  options: { cwd?: string } = {},
): ChildProcess {
  const child = spawn('taskset', ['-c', core, command, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    ...options,
  });
  children.push(child);
  return child;
}

export function ready(child: ChildProcess): Promise<void> {
  return new Promise((done, fail) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      if (process.env['BENCH_LOG']) process.stderr.write(d);
      out += d.toString();
      if (out.includes('ready')) done();
    });
    child.once('exit', (code) => fail(new Error(`process exited (${code}) before it was ready`)));
  });
}

export async function startNode(root: string, script: string, args: string[]): Promise<ChildProcess> {
  const flags = (process.env['BENCH_NODE_FLAGS'] ?? '').split(' ').filter(Boolean);
  const child = pinned(SUT_CORE, NODE, [...flags, join(root, script), ...args]);
  await ready(child);
  return child;
}

export async function startNginx(dir: string, port: number, upstreamPort: number): Promise<ChildProcess> {
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/nginx-body;
  proxy_temp_path ${dir}/nginx-proxy;
  fastcgi_temp_path ${dir}/nginx-fastcgi;
  uwsgi_temp_path ${dir}/nginx-uwsgi;
  scgi_temp_path ${dir}/nginx-scgi;
  upstream app { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`,
  );
  const child = pinned(SUT_CORE, 'nginx', ['-c', conf, '-p', dir]);
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/products/1`);
      await res.arrayBuffer();
      if (res.status === 200) return child;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('nginx did not start');
}
