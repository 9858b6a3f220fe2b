/** `make controlplane-up`: a control plane that outlives this command; kubeconfig path last. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startControlPlane } from './control-plane.ts';

const dir = resolve(import.meta.dirname, '../../.tmp/controlplane');
mkdirSync(dir, { recursive: true });
const plane = await startControlPlane({ detached: true, dir });
writeFileSync(join(dir, 'pids'), plane.pids.join('\n'));
console.log(`kube-apiserver ${plane.apiserverUrl}; tools in ${plane.bin}; stop with make controlplane-down`);
console.log(plane.kubeconfig);
