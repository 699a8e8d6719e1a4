import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // npm run test:cluster (vitest.cluster.config.mts): it needs Go to build the Temporal server.
    exclude: ['test/cluster/**', '**/node_modules/**'],
    globalSetup: ['test/support/global-setup.ts'],
    // Temporal's native bridge is happiest in child processes rather than worker threads.
    pool: 'forks',
    // Two files at a time, also on 2 cores (vitest's default there is one): 1,300 tests in 296 s
    // instead of about 560. Test stacks turn event-loop load shedding off for this (test/support/stack.ts).
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
