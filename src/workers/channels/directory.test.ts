import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKysely } from '../../infra/kysely.js';
import type { ReadModels } from '../../projections/read-models.js';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { readModelDirectory } from './directory.js';

describe('recipient directory over the identity read models', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it("finds a member's e-mail address and a team's webhook secret, and nothing for unknown ids", async () => {
    const userId = randomUUID();
    const teamId = randomUUID();
    await database.pool.query(`insert into users (id, email, name, registered_at) values ($1, 'grace@example.com', 'Grace', now())`, [userId]);
    await database.pool.query(`insert into teams (id, name, webhook_secret, created_at) values ($1, 'Platform', 'whsec-platform', now())`, [teamId]);
    const directory = readModelDirectory(createKysely<ReadModels>(database.pool));

    expect(await directory.emailOfUser(userId)).toBe('grace@example.com');
    expect(await directory.webhookSecretOf(teamId)).toBe('whsec-platform');
    expect(await directory.emailOfUser(randomUUID())).toBeNull();
    expect(await directory.webhookSecretOf(randomUUID())).toBeNull();
  });
});
