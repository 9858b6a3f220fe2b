/**
 * Processes of the benchmark, each pinned to a core and stopped when the run ends, and what the
 * harness reads of them: CPU time, RSS, an HTTP answer.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { NODE_FLAGS, PROCESS_ENV } from '../cli/node-flags.ts';

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
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
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

/** Node flags of every process under test: riskgate's own, plus BENCH_NODE_FLAGS (e.g. --cpu-prof). */
function nodeFlags(): string[] {
  return [...NODE_FLAGS, ...(process.env['BENCH_NODE_FLAGS'] ?? '').split(' ').filter(Boolean)];
}

export async function startNode(
  root: string,
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<ChildProcess> {
  const child = pinned(SUT_CORE, NODE, [...nodeFlags(), join(root, script), ...args], {
    env: { ...PROCESS_ENV, ...process.env, ...env },
  });
  await ready(child);
  return child;
}

/** Stops a process under test (SIGTERM, so --cpu-prof can write; SIGKILL after 5 s) and waits for it. */
export function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      done();
    });
    child.kill('SIGTERM');
  });
}

/**
 * The enforcer exactly as the image runs it: `riskgate enforce` from the compiled dist/
 * (`make build`), with riskgate's Node flags. Ready when its admin port says so.
 */
export async function startEnforcer(
  root: string,
  options: {
    listen: number;
    admin: number;
    upstream: string;
    policy: string;
    redis?: string;
    args?: string[];
    env?: NodeJS.ProcessEnv;
  },
): Promise<ChildProcess> {
  const child = spawn(
    'taskset',
    [
      '-c',
      SUT_CORE,
      NODE,
      ...nodeFlags(),
      join(root, 'dist/cli/main.js'),
      'enforce',
      '--policy',
      options.policy,
      '--upstream',
      options.upstream,
      '--listen',
      `127.0.0.1:${options.listen}`,
      '--admin',
      `127.0.0.1:${options.admin}`,
      '--log-allow-sample',
      '0',
      ...(options.redis ? ['--redis', options.redis] : []),
      ...(options.args ?? []),
    ],
    {
      stdio: ['ignore', process.env['BENCH_LOG'] ? 'inherit' : 'ignore', 'inherit'],
      env: {
        ...PROCESS_ENV,
        ...process.env,
        RISKGATE_LOG_LEVEL: process.env['BENCH_LOG'] ? 'info' : 'warn',
        ...options.env,
      },
    },
  );
  children.push(child);
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  for (let i = 0; i < 600 && !exited; i++) {
    try {
      if ((await httpGet(`http://127.0.0.1:${options.admin}/readyz`)).status === 200) return child;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(exited ? 'the enforcer exited before it was ready' : 'the enforcer did not become ready');
}

export async function startNginx(dir: string, port: number, upstreamPort: number): Promise<ChildProcess> {
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
# One process, so the harness can read the CPU time of the process that serves.
master_process off;
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
      if ((await httpGet(`http://127.0.0.1:${port}/products/1`)).status === 200) return child;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('nginx did not start');
}

/**
 * One GET on a connection of its own. A pooled connection (fetch's) left from a readiness check
 * is closed by the server's keep-alive timeout long before the run ends, and the next request on
 * it fails with EPIPE.
 */
export function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => done({ status: res.statusCode ?? 0, body }));
      res.on('error', fail);
    }).on('error', fail);
  });
}

/** CPU time (user + system) a process has used so far, in µs. Immune to time stolen by neighbours. */
export function cpuUs(pid: number | undefined): number {
  if (!pid) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

/** A process's resident memory, MB. */
export function rssMb(pid: number | undefined): number {
  if (!pid) return 0;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024);
}

/**
 * `seconds` of the bench's closed-loop mix (wrk, 32 connections, no attack traffic) against a
 * process: req/s, and its CPU µs per request from its own counters.
 */
export function closedLoop(
  root: string,
  url: string,
  pid: number,
  files: Record<string, string>,
  seconds: number,
): { rps: number; cpu: number } {
  const before = cpuUs(pid);
  const out = execFileSync(
    'taskset',
    ['-c', LOAD_CORE, 'wrk', '-t1', '-c32', `-d${seconds}s`, '-s', join(root, 'bench/wrk.lua'), url],
    { encoding: 'utf8', env: { ...process.env, ...files, RG_ATTACK_SHARE: '0' } },
  );
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const total = Number(/(\d+) requests in/.exec(out)?.[1] ?? 1);
  return { rps, cpu: (cpuUs(pid) - before) / total };
}

/** CPU µs per request of a process under `seconds` of the closed-loop mix, to a tenth. */
export function cpuPerRequest(
  root: string,
  url: string,
  pid: number,
  files: Record<string, string>,
  seconds: number,
): number {
  return +closedLoop(root, url, pid, files, seconds).cpu.toFixed(1);
}

/** A process the side-by-side scripts (compare.ts, ladder.ts) start afresh every round. */
export interface Variant {
  name: string;
  start: () => Promise<{ url: string; child: ChildProcess }>;
}

/**
 * Every variant measured once per round, each round on fresh processes in a rotating order:
 * `warmSeconds` of the closed-loop mix, then `seconds` measured. Each variant's results by round.
 */
export async function interleavedRounds(
  root: string,
  variants: readonly Variant[],
  files: Record<string, string>,
  options: { rounds: number; warmSeconds: number; seconds: number },
): Promise<Map<string, { rps: number; cpu: number }[]>> {
  const results = new Map<string, { rps: number; cpu: number }[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < options.rounds; round++) {
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
    for (const v of order) {
      const { url, child } = await v.start();
      closedLoop(root, url, child.pid!, files, options.warmSeconds);
      const r = closedLoop(root, url, child.pid!, files, options.seconds);
      results.get(v.name)!.push(r);
      console.error(
        `round ${round + 1} ${v.name}: ${r.rps.toFixed(0)} req/s, ${r.cpu.toFixed(1)} µs CPU/request`,
      );
      await stop(child);
    }
  }
  return results;
}
