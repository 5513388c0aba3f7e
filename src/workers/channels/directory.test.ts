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

  it("finds a member's e-mail address only within a team they belong to, and says when they do not", async () => {
    const userId = randomUUID();
    const teamId = randomUUID();
    const otherTeamId = randomUUID();
    await database.pool.query(`insert into users (id, email, name, registered_at) values ($1, 'grace@example.com', 'Grace', now())`, [userId]);
    await database.pool.query(`insert into team_members (team_id, user_id, role, joined_at) values ($1, $2, 'member', now())`, [teamId, userId]);
    const directory = readModelDirectory(createKysely<ReadModels>(database.pool));

    expect(await directory.memberEmail(teamId, userId)).toEqual({ status: 'member', email: 'grace@example.com' });
    expect(await directory.memberEmail(otherTeamId, userId)).toEqual({ status: 'not_member' });
    expect(await directory.memberEmail(teamId, randomUUID())).toEqual({ status: 'not_member' });

    await database.pool.query(`delete from team_members where team_id = $1 and user_id = $2`, [teamId, userId]);
    expect(await directory.memberEmail(teamId, userId)).toEqual({ status: 'not_member' });
  });

  it('tells a member whose user row is not there yet apart from a non-member', async () => {
    const teamId = randomUUID();
    const userId = randomUUID();
    await database.pool.query(`insert into team_members (team_id, user_id, role, joined_at) values ($1, $2, 'viewer', now())`, [teamId, userId]);
    const directory = readModelDirectory(createKysely<ReadModels>(database.pool));

    expect(await directory.memberEmail(teamId, userId)).toEqual({ status: 'no_address' });
  });

  it("finds a team's webhook secret generation and when it rotated, and nothing for an unknown team", async () => {
    const teamId = randomUUID();
    const rotatedAt = new Date('2026-02-03T04:05:06.000Z');
    await database.pool.query(`insert into teams (id, name, created_at) values ($1, 'Platform', now())`, [teamId]);
    const directory = readModelDirectory(createKysely<ReadModels>(database.pool));

    expect(await directory.webhookSecretGenerationOf(teamId)).toEqual({ generation: 0, rotatedAt: null });
    await database.pool.query(`update teams set webhook_secret_generation = 2, webhook_secret_rotated_at = $2 where id = $1`, [teamId, rotatedAt]);
    expect(await directory.webhookSecretGenerationOf(teamId)).toEqual({ generation: 2, rotatedAt });
    expect(await directory.webhookSecretGenerationOf(randomUUID())).toBeNull();
  });
});
