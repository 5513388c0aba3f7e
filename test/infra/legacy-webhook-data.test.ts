import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCatalog } from '../../src/catalog.js';
import type { AlertEvent } from '../../src/domain/alert/events.js';
import type { TeamEvent } from '../../src/domain/team/events.js';
import { knownMigrations, migrate } from '../../src/infra/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/** Errors as the previous version recorded them: the target's body after the status, or where a redirect pointed. */
const legacyErrors = [
  'HTTP 500: {"error":"internal","trace":"at db.query (/srv/app.js:12)","apiKey":"sk_live_abc"}',
  'HTTP 302: redirect to https://sso.internal.example/login?session=abc123 not followed',
  'HTTP 304: redirect to (no location) not followed',
  'HTTP 404: Not Found',
  'HTTP 503',
  'timed out after 5000 ms',
  'connection refused by 127.0.0.1:4000',
  'webhook target refused: 10.0.0.1 resolves to private address 10.0.0.1 (WEBHOOK_ALLOW_PRIVATE is off)',
];

describe('data written by the previous version', () => {
  const catalog = createCatalog();

  it('a version-1 NotificationFailed is read with the status only, never what the target answered', () => {
    const read = (error: string) =>
      catalog.parse<AlertEvent>({
        type: 'NotificationFailed',
        schemaVersion: 1,
        eventId: randomUUID(),
        data: { alertId: randomUUID(), deliveryId: randomUUID(), attempt: 1, error, failedAt: new Date().toISOString(), retryAt: null },
      }).data as { error: string };

    expect(legacyErrors.map((error) => read(error).error)).toEqual([
      'HTTP 500',
      'redirect refused (HTTP 302)',
      'redirect refused (HTTP 304)',
      'HTTP 404',
      'HTTP 503',
      'timed out after 5000 ms',
      'connection refused by 127.0.0.1:4000',
      'webhook target refused: 10.0.0.1 resolves to private address 10.0.0.1 (WEBHOOK_ALLOW_PRIVATE is off)',
    ]);
  });

  it('a version-1 TeamCreated is read without its plaintext webhook secret', () => {
    const teamId = randomUUID();
    const event = catalog.parse<TeamEvent>({
      type: 'TeamCreated',
      schemaVersion: 1,
      eventId: randomUUID(),
      data: { teamId, name: 'Legacy', webhookSecret: 'plaintext-secret', createdBy: randomUUID(), createdAt: new Date().toISOString() },
    });
    expect(event.data).not.toHaveProperty('webhookSecret');
    expect(JSON.stringify(event)).not.toContain('plaintext-secret');
  });

  describe('migrating the read models', () => {
    let database: TestDatabase;
    const teamId = randomUUID();
    const plaintext = randomBytes(32).toString('base64url');
    const deliveries = legacyErrors.map(() => randomUUID());

    beforeAll(async () => {
      database = await createTestDatabase({ migrate: false });
      await migrate(database.pool, knownMigrations().filter((migration) => migration.version <= 5));
      await database.pool.query(`insert into teams (id, name, webhook_secret, created_at) values ($1, 'Legacy', $2, now())`, [teamId, plaintext]);
      for (const [index, error] of legacyErrors.entries()) {
        await database.pool.query(
          `insert into alert_notifications (delivery_id, alert_id, team_id, loop, step, node_id, target, status, attempts, last_error, requested_at, updated_at)
           values ($1, $2, $3, 0, 0, $2, '{}', 'abandoned', 1, $4, now(), now())`,
          [deliveries[index], randomUUID(), teamId, error],
        );
      }
      await migrate(database.pool);
    });
    afterAll(async () => {
      await database?.drop();
    });

    it('drops the plaintext secret column and leaves no stored lastError: the read models are replayed from the upcast log', async () => {
      const { rows: columns } = await database.pool.query(`select column_name from information_schema.columns where table_name = 'teams' order by column_name`);
      expect(columns.map((column: { column_name: string }) => column.column_name)).toEqual([
        'created_at', 'id', 'name', 'webhook_secret_generation', 'webhook_secret_rotated_at',
      ]);
      const { rows } = await database.pool.query(`select (select count(*) from teams)::int as teams, (select count(*) from alert_notifications)::int as notifications`);
      expect(rows[0]).toEqual({ teams: 0, notifications: 0 });
      const { rows: secrets } = await database.pool.query(`select 1 from teams t where to_jsonb(t)::text like $1`, [`%${plaintext}%`]);
      expect(secrets).toEqual([]);
    });
  });
});
