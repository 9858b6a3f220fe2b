import { defineConfig } from 'vitest/config';

// Tier 5: challenge pages and the client helper in a real headless Chromium (Debian's package).
export default defineConfig({
  test: {
    include: ['**/*.browser.test.ts'],
    exclude: ['node_modules/**', '.tmp/**'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
