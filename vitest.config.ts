import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    // *.cp.test.ts need a control plane (vitest.controlplane.config.ts); *.browser.test.ts a
    // Chromium (vitest.browser.config.ts); eval/ and demo/ are the slow tier (vitest.slow.config.ts).
    exclude: [
      'node_modules/**',
      '.tmp/**',
      '**/*.cp.test.ts',
      '**/*.browser.test.ts',
      '**/*.slow.test.ts',
      'eval/**',
      'demo/**',
    ],
    // Two cores: component tests start real servers, so keep parallelism modest.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
