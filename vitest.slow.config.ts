import { defineConfig } from 'vitest/config';

/**
 * The slow tier: whole-system runs — the detection evaluation (a simulated week through a real
 * enforcer and Redis), `make demo`, and floods against the enforcer process (*.slow.test.ts) —
 * that take minutes rather than seconds. `make test` runs
 * it after tiers 1–2; `make unit` leaves it out for a quick loop.
 */
export default defineConfig({
  test: {
    include: ['eval/**/*.test.ts', 'demo/**/*.test.ts', '**/*.slow.test.ts'],
    exclude: ['node_modules/**', '.tmp/**'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 60_000,
  },
});
