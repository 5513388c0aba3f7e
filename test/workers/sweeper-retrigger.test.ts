import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKysely } from '../../src/infra/kysely.js';
import { createLogger } from '../../src/infra/logger.js';
import type { ReadModels } from '../../src/projections/read-models.js';
import { startSweeper, type Sweeper } from '../../src/workers/sweeper.js';
import type { RetriggerAlert } from '../../src/workers/timer-consumer.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

describe('sweeper and acknowledged alerts due to be triggered again', () => {
  let database: TestDatabase;
  let db: Kysely<ReadModels>;
  const sweepers: Sweeper[] = [];
  const now = Date.now();
  const ago = (ms: number) => new Date(now - ms);

  const pendingRetrigger = async (dueAt: Date) => {
    const row = { alert_id: randomUUID(), team_id: randomUUID(), epoch: 3, due_at: dueAt };
    await db.insertInto('pending_retriggers').values(row).execute();
    return row;
  };
  const sweeperWith = (retrigger: RetriggerAlert) => {
    const sweeper = startSweeper({
      db,
      fire: async () => ({ fired: false, lagMs: null }),
      retrigger,
      publisher: { publishDeliveryWork: async () => undefined },
      logger: createLogger('silent'),
      intervalMs: 3_600_000,
      graceMs: 1000,
      clock: () => new Date(now),
    });
    sweepers.push(sweeper);
    return sweeper;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createKysely<ReadModels>(database.pool);
  });
  afterAll(async () => {
    for (const sweeper of sweepers) await sweeper.stop();
    await database?.drop();
  });

  it('an acknowledgement timeout or snooze overdue beyond the grace period goes through the fenced path, like an overdue step', async () => {
    const lost = await pendingRetrigger(ago(5000));
    const stale = await pendingRetrigger(ago(4000));
    await pendingRetrigger(ago(500));
    await pendingRetrigger(new Date(now + 60_000));
    const calls: { alertId: string; epoch: number }[] = [];
    const report = await sweeperWith(async ({ alertId, epoch }) => {
      calls.push({ alertId, epoch });
      return { retriggered: alertId === lost.alert_id };
    }).sweep();

    expect(calls).toEqual([
      { alertId: lost.alert_id, epoch: 3 },
      { alertId: stale.alert_id, epoch: 3 },
    ]);
    expect(report).toMatchObject({ alertsRetriggered: 1, failures: 0 });
  });

  it('keeps sweeping past an alert it cannot trigger again', async () => {
    await db.deleteFrom('pending_retriggers').execute();
    const broken = await pendingRetrigger(ago(9000));
    const fine = await pendingRetrigger(ago(8000));
    const report = await sweeperWith(async ({ alertId }) => {
      if (alertId === broken.alert_id) throw new Error('event store unavailable');
      return { retriggered: alertId === fine.alert_id };
    }).sweep();
    expect(report).toMatchObject({ alertsRetriggered: 1, failures: 1 });
  });
});
