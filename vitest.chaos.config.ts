import { defineConfig } from 'vitest/config';

/**
 * The chaos suite: real service processes side by side, killed, cut off from their database and their broker.
 * It restarts the shared broker, so it runs on its own, one file at a time, never next to the main suite.
 */
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
  },
});
