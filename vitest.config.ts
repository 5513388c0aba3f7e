import { defineConfig } from 'vitest/config';

/**
 * End-to-end suites run a second time with the event log in memory (EVENT_STORE=memory): the HTTP surface must not
 * depend on PostgreSQL's `events` table, only on the EventStore interface. Read models stay in PostgreSQL.
 */
const IN_MEMORY_LOG_SUITES = [
  'test/teams.e2e.test.ts',
  'test/invites.e2e.test.ts',
  'test/flows.e2e.test.ts',
  'test/escalation.e2e.test.ts',
  'test/schedules.e2e.test.ts',
  'test/integrations.e2e.test.ts',
  'test/quotas.e2e.test.ts',
  'test/security/redaction.e2e.test.ts',
  'test/security/removed-member.e2e.test.ts',
];

export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'postgres-log',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['test/chaos/**', 'test/**/*.disruptive.test.ts', 'test/**/*.alone.test.ts', 'node_modules/**'],
        },
      },
      {
        extends: true,
        test: { name: 'in-memory-log', include: IN_MEMORY_LOG_SUITES, provide: { eventStore: 'memory' } },
      },
    ],
  },
});
