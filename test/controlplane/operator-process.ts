/**
 * `bin/riskgate operator` as a real process against a test control plane, with fast lease and
 * resync timings. A process, not in-process: its webhook must answer the apiserver while the
 * test waits on kubectl.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '../support/free-port.ts';

export interface OperatorProcess {
  child: ChildProcess;
  /** The admin listener: /healthz, /readyz (with leader), /metrics. */
  admin: string;
}

export async function spawnOperator(
  kubeconfig: string,
  extraArgs: string[] = [],
  stdio: 'ignore' | 'inherit' = 'ignore',
): Promise<OperatorProcess> {
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
      stdio: ['ignore', 'ignore', stdio],
      env: { ...process.env, RISKGATE_LOG_LEVEL: process.env['RISKGATE_TEST_OPERATOR_LOG'] ?? 'warn' },
    },
  );
  return { child, admin: `http://127.0.0.1:${port}` };
}
