/** `make controlplane-down`: stops what `make controlplane-up` started. */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const dir = resolve(import.meta.dirname, '../../.tmp/controlplane');
const pidFile = join(dir, 'pids');

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

if (!existsSync(pidFile)) {
  console.log('no control plane running');
} else {
  // apiserver first, then etcd; each gets 10 s to shut down cleanly, then SIGKILL.
  for (const pid of readFileSync(pidFile, 'utf8').split('\n').filter(Boolean).map(Number).reverse()) {
    if (!alive(pid)) continue;
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 10_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
  console.log('control plane stopped');
}
