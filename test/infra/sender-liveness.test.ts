import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/infra/logger.js';
import { SenderLiveness } from '../../src/infra/sender-liveness.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait.js';

describe('sender liveness', () => {
  let database: TestDatabase;
  const logger = createLogger('silent');
  const senders: SenderLiveness[] = [];
  const sender = async (staleAfterMs = 200) => {
    const created = new SenderLiveness(database.pool, database.url, logger, 60_000, staleAfterMs);
    senders.push(created);
    await created.start();
    return created;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    for (const created of senders) await created.close();
    await database?.drop();
  });

  it('a running sender is never taken for stopped; one whose process is gone is, once its last mark of life is stale', async () => {
    const observer = await sender();
    const running = await sender();
    const crashed = await sender();
    expect(await observer.refresh()).toEqual([]);

    // What a killed process leaves behind: its connection, and with it the lock, gone.
    await database.pool.query(
      `select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'alertops:sender' and datname = current_database()
         and pid in (select pid from pg_locks where locktype = 'advisory' and objid = hashtext($1)::oid)`,
      [crashed.senderId],
    );
    await crashed.close();
    await waitFor('the crashed sender to be seen stopped', async () => (await observer.refresh()).includes(crashed.senderId));
    expect(observer.stoppedSenders()).toEqual([crashed.senderId]);
    expect(observer.stoppedSenders()).not.toContain(running.senderId);
    expect(await running.refresh()).toEqual([crashed.senderId]);
  });

  it('a sender whose own connection dropped takes its lock again and is not taken for stopped by itself', async () => {
    const observer = await sender();
    const dropped = await sender();
    const { rows } = await database.pool.query<{ pid: number }>(
      `select pid from pg_locks where locktype = 'advisory' and objid = hashtext($1)::oid`,
      [dropped.senderId],
    );
    await database.pool.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
    await waitFor('the dropped connection to be gone', async () => {
      const { rowCount } = await database.pool.query('select 1 from pg_stat_activity where pid = $1', [rows[0]!.pid]);
      return rowCount === 0;
    });
    expect(await dropped.refresh()).not.toContain(dropped.senderId);
    // Its refresh registered it again: the others see it alive.
    expect(await observer.refresh()).not.toContain(dropped.senderId);
  });

  it('a live sender whose connection was cut takes its lock again by itself and is not taken for stopped meanwhile', async () => {
    const observer = await sender();
    const cut = await sender(3000);
    const lockHolder = async () =>
      (await database.pool.query<{ pid: number }>(`select pid from pg_locks where locktype = 'advisory' and granted and objid = hashtext($1)::oid`, [cut.senderId]))
        .rows[0]?.pid;
    const before = await lockHolder();
    await database.pool.query('select pg_terminate_backend($1)', [before]);
    await waitFor('the lock to be free', async () => (await lockHolder()) !== before);

    expect(await observer.refresh()).not.toContain(cut.senderId);
    // Without a refresh of its own: the lost connection alone makes it take the lock again.
    const after = await waitFor('the cut sender to hold its lock again', async () => {
      const pid = await lockHolder();
      return pid !== undefined && pid !== before && pid;
    });
    expect(after).not.toBe(before);
    expect(await observer.refresh()).not.toContain(cut.senderId);
  });
});
