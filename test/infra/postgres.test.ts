import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool, retryOnLostConnections } from '../../src/infra/postgres.js';
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

  it('a pooled query meets every idle connection terminated at once and still gets its answer', async () => {
    const three = createPool(database.url, { max: 3, applicationName: 'pool-of-three' });
    try {
      const clients = await Promise.all([three.connect(), three.connect(), three.connect()]);
      const pids = await Promise.all(clients.map(async (client) => (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid));
      for (const client of clients) client.release();
      // Terminated from another process while this one is blocked, so the pool has not read of the terminations when
      // the query takes its idle, dead, connections one after the other.
      const terminate = `select count(*) filter (where pg_terminate_backend(pid)) from unnest('{${pids.join(',')}}'::int[]) as pid`;
      const psql = spawnSync('psql', [database.url, '-Atc', terminate], { encoding: 'utf8' });
      expect(psql.stdout.trim(), psql.stderr).toBe('3');

      const { rows } = await three.query<{ pid: number }>('select pg_backend_pid() as pid');
      expect(pids).not.toContain(rows[0]!.pid);
    } finally {
      await three.end();
    }
  });
});

describe('retryOnLostConnections', () => {
  const terminated = () => Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });

  it('sends a statement again while its connections turn out dead, up to the tries it is given', async () => {
    let calls = 0;
    const answer = await retryOnLostConnections(4, async () => {
      if (++calls < 4) throw terminated();
      return 'answer';
    });
    expect({ answer, calls }).toEqual({ answer: 'answer', calls: 4 });

    calls = 0;
    await expect(retryOnLostConnections(3, async () => {
      calls++;
      throw terminated();
    })).rejects.toThrow('terminating connection');
    expect(calls).toBe(3);
  });

  it('does not send again a statement that failed for any other reason', async () => {
    let calls = 0;
    await expect(retryOnLostConnections(5, async () => {
      calls++;
      throw Object.assign(new Error('duplicate key value'), { code: '23505' });
    })).rejects.toThrow('duplicate key');
    expect(calls).toBe(1);
  });
});
