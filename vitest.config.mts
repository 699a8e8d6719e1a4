import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // npm run test:cluster (vitest.cluster.config.mts): it needs Go to build the Temporal server.
    exclude: ['test/cluster/**', '**/node_modules/**'],
    globalSetup: ['test/support/global-setup.ts'],
    // Temporal's native bridge is happiest in child processes rather than worker threads.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
