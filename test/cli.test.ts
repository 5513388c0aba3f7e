import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { triggerAlert } from '../src/commands/alerts.js';
import { createApiToken, revokeApiToken } from '../src/commands/api-tokens.js';
import { createCatalog } from '../src/catalog.js';
import { PostgresEventStore } from '../src/eventstore/postgres.js';
import { createKysely } from '../src/infra/kysely.js';
import type { ReadModels } from '../src/projections/read-models.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

const run = promisify(execFile);

describe('alertops CLI', () => {
  let database: TestDatabase;
  let alertId: string;
  const cli = (...args: string[]) =>
    run('node', ['--import', 'tsx', 'src/cli.ts', ...args], {
      env: { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'silent' },
      timeout: 60_000,
    });

  beforeAll(async () => {
    database = await createTestDatabase();
    const deps = { eventStore: new PostgresEventStore(database.pool), catalog: createCatalog(), pool: database.pool };
    const node = { id: crypto.randomUUID(), name: 'ops', delaySeconds: 30, target: { type: 'email' as const, email: 'ops@example.com' }, retry: { maxAttempts: 2, backoffSeconds: 5 } };
    ({ alertId } = await triggerAlert(deps, {
      teamId: crypto.randomUUID(),
      flow: { flowId: crypto.randomUUID(), version: 1, repeat: 0, nodes: [node] },
      summary: 'disk full', details: null, severity: 'critical', dedupKey: null, source: 'test', actor: 'system:test', now: new Date(),
    }));
    const tokenDeps = { ...deps, db: createKysely<ReadModels>(database.pool) };
    const team = { teamId: crypto.randomUUID(), actor: 'system:test' as const, now: new Date() };
    const { tokenId } = await createApiToken(tokenDeps, { ...team, name: 'ci', role: 'viewer', createdBy: crypto.randomUUID() });
    await revokeApiToken(tokenDeps, { ...team, tokenId, revokedBy: crypto.randomUUID() });
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('prints an incident timeline and replays its state', async () => {
    const { stdout } = await cli('incident', 'timeline', alertId);
    expect(stdout).toMatch(/AlertTriggered/);
    expect(stdout).toMatch(/EscalationStepScheduled/);
    const replay = await cli('incident', 'replay', alertId, '--at', new Date(Date.now() + 60_000).toISOString());
    expect(JSON.parse(replay.stdout)).toMatchObject({ eventsApplied: 2, state: { status: 'triggered', pending: { step: 0 } } });
   }, 60_000);

  it('rebuilds read models and verifies them and the hash chains; tampering is reported with exit code 2', async () => {
    await cli('projections', 'rebuild');
    const status = await cli('projections', 'status');
    expect(status.stdout).toMatch(/read-models\s+\S+\s+behind\s+0/);
    const healthy = await cli('audit', 'verify');
    expect(healthy.stdout).toContain('0 broken');
    expect(healthy.stdout).toContain('read model alerts: 2 events replayed, equal');
    expect(healthy.stdout).toContain('read model api-tokens: 2 events replayed, equal');

    await database.pool.query(`update events set data = jsonb_set(data, '{summary}', '"nothing to see"') where event_type = 'AlertTriggered'`);
    const tampered = await cli('audit', 'verify').then(
      () => null,
      (error: { code: number; stdout: string }) => error,
    );
    expect(tampered?.code).toBe(2);
    expect(tampered?.stdout).toMatch(/1 broken/);
    // Four processes, each loading TypeScript through tsx: slow on a busy machine, and nothing here is timed.
  }, 120_000);

  it('fails with a clear message for an unknown alert', async () => {
    const failure = await cli('incident', 'timeline', crypto.randomUUID()).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/no alert/);
   }, 60_000);
});
