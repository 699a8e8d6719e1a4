import { defineConfig } from 'vitest/config';

/** Runs only the deliberately failing fixture, with the real global setup (see `.ci/run`). */
export default defineConfig({
  test: {
    include: ['test/fixtures/*.must-fail.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    hookTimeout: 180_000,
  },
});
