import { defineConfig } from 'vitest/config';

/**
 * `npm run test:cluster`: the production engine (`npm run cluster`) started as a user starts it.
 * Not in `npm test`: its first run builds the Temporal server with Go (see docs/tests.md).
 */
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 660_000,
    reporters: ['default'],
  },
});
