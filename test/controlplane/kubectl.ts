/** Runs the real kubectl (and helm) against the test control plane. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { inject } from 'vitest';

export interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

export function tool(name: 'kubectl' | 'helm', args: string[], input?: string): Run {
  const kubeconfig = inject('kubeconfig');
  const r = spawnSync(join(inject('toolsBin'), name), ['--kubeconfig', kubeconfig, ...args], {
    encoding: 'utf8',
    input,
    timeout: 120_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export const kubectl = (...args: string[]) => tool('kubectl', args);
export const kubectlIn = (input: string, ...args: string[]) => tool('kubectl', args, input);

/** kubectl that must succeed; returns stdout. */
export function kubectlOk(...args: string[]): string {
  const r = kubectl(...args);
  if (r.status !== 0)
    throw new Error(`kubectl ${args.join(' ')} failed (${r.status}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}
