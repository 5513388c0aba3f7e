import { defineConfig } from 'vitest/config';

/**
 * Tests that restart the shared broker or database, and timing comparisons that another file's load would blur
 * (`*.alone.test.ts`): run after the main suite, one file at a time. A run that finds
 * no test file fails; without `rabbitmqctl` the files skip themselves, except on CI (CI=true), where they fail.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.disruptive.test.ts', 'test/**/*.alone.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    passWithNoTests: false,
  },
});
