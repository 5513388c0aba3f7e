import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '../../src/infra/postgres.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

describe('PostgreSQL pool', () => {
  let database: TestDatabase;
  let pool: Pool;

  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    pool = createPool(database.url, { max: 2, applicationName: 'pool-under-test' });
  });
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  it('a checked-out client whose connection is terminated between queries fails its next query instead of crashing the process', async () => {
    const client = await pool.connect();
    const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
    const terminated = new Promise<void>((resolve) => client.once('end', () => resolve()));
    await database.pool.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
    await terminated;

    const next = await client.query('select 1').then(
      () => null,
      (error: Error) => error,
    );
    expect(next).toBeInstanceOf(Error);
    client.release(next ?? undefined);

    const { rows: after } = await pool.query<{ one: number }>('select 1 as one');
    expect(after[0]!.one).toBe(1);
  });
});
