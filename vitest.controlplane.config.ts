import { defineConfig } from 'vitest/config';

/** Tier 3: against a real kube-apiserver + etcd (test/controlplane), one per run. */
export default defineConfig({
  test: {
    include: ['**/*.cp.test.ts'],
    exclude: ['node_modules/**', '.tmp/**'],
    globalSetup: ['test/controlplane/global-setup.ts'],
    pool: 'forks',
    // One apiserver for all files: run them one at a time so they don't race on cluster objects.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
