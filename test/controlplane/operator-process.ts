/**
 * `bin/riskgate operator` as a real process against a test control plane, with fast lease and
 * resync timings. A process, not in-process: its webhook must answer the apiserver while the
 * test waits on kubectl. Its log is kept (the last 64 KiB) so a failed wait can show why.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'undici';
import { freePort } from '../support/free-port.ts';

export interface OperatorProcess {
  child: ChildProcess;
  /** The admin listener: /healthz, /readyz (with leader), /metrics. */
  admin: string;
  /** What the operator has logged so far (and how it exited), for failure messages. */
  output: () => string;
  /** A sample from /metrics, as `name{labels}` prints it; undefined when there is none. */
  metric: (name: string, labels: string) => Promise<number | undefined>;
}

const KEEP = 64 * 1024;

export async function spawnOperator(kubeconfig: string, extraArgs: string[] = []): Promise<OperatorProcess> {
  const port = await freePort();
  const child = spawn(
    'bin/riskgate',
    [
      'operator',
      '--kubeconfig',
      kubeconfig,
      '--namespace',
      'riskgate-system',
      '--admin',
      `127.0.0.1:${port}`,
      '--webhook-listen',
      '127.0.0.1:0',
      '--lease-duration',
      '3s',
      '--resync-period',
      '1s',
      ...extraArgs,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        RISKGATE_LOG_LEVEL: process.env['RISKGATE_TEST_OPERATOR_LOG'] ?? 'info',
      },
    },
  );
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-KEEP);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.once('exit', (code, signal) => {
    log += `\n[operator exited: code ${code}, signal ${signal}]\n`;
  });
  const admin = `http://127.0.0.1:${port}`;
  return {
    child,
    admin,
    output: () => `operator log (last ${KEEP / 1024} KiB):\n${log}`,
    metric: async (name, labels) => {
      const res = await request(`${admin}/metrics`);
      const line = (await res.body.text()).split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
      return line ? Number(line.split(' ').pop()) : undefined;
    },
  };
}
