/** `make controlplane-down`: stops what `make controlplane-up` started. */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const dir = resolve(import.meta.dirname, '../../.tmp/controlplane');
const pidFile = join(dir, 'pids');
if (!existsSync(pidFile)) {
  console.log('no control plane running');
} else {
  for (const pid of readFileSync(pidFile, 'utf8').split('\n').filter(Boolean).map(Number).reverse()) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {}
  }
  await new Promise((r) => setTimeout(r, 1000));
  rmSync(dir, { recursive: true, force: true });
  console.log('control plane stopped');
}
