/**
 * Starts one real control plane for the control-plane test tier and stops it afterwards —
 * also when the run is interrupted (the children die with this process).
 */
import type { TestProject } from 'vitest/node';
import { type ControlPlane, startControlPlane } from './control-plane.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
    toolsBin: string;
    controlPlaneDir: string;
  }
}

let plane: ControlPlane | undefined;

export async function setup(project: TestProject) {
  plane = await startControlPlane();
  project.provide('kubeconfig', plane.kubeconfig);
  project.provide('toolsBin', plane.bin);
  project.provide('controlPlaneDir', plane.dir);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void plane?.stop().finally(() => process.exit(130));
    });
  }
}

export async function teardown() {
  await plane?.stop();
}
