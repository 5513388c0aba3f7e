import { defineConfig } from 'vitest/config';

/** Tests that restart the shared broker or database: run after the main suite, one file at a time. */
export default defineConfig({
  test: {
    include: ['test/**/*.disruptive.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    passWithNoTests: true,
  },
});
