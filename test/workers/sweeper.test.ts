import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { createKysely } from '../../src/infra/kysely.js';
import type { ReadModels } from '../../src/projections/read-models.js';
import { startSweeper, type Sweeper } from '../../src/workers/sweeper.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait.js';
import { type BrokerHarness, collectQueue, deliveries, recordingFire, startBrokerHarness } from './broker-harness.js';

describe('sweeper', () => {
  let database: TestDatabase;
  let harness: BrokerHarness;
  let db: Kysely<ReadModels>;
  const sweepers: Sweeper[] = [];
  let now = Date.now();
  const clock = () => new Date(now);
  const ago = (ms: number) => new Date(now - ms);

  const pendingStep = async (dueAt: Date) => {
    const row = { alert_id: randomUUID(), team_id: randomUUID(), epoch: 1, loop: 0, step: 2, due_at: dueAt };
    await db.insertInto('pending_escalations').values(row).execute();
    return row;
  };
  const pendingDelivery = async (dueAt: Date, sender: string | null = null) => {
    const row = { delivery_id: randomUUID(), alert_id: randomUUID(), due_at: dueAt, sender };
    await db.insertInto('pending_deliveries').values(row).execute();
    return row;
  };
  const removeAllPending = async () => {
    await db.deleteFrom('pending_escalations').execute();
    await db.deleteFrom('pending_deliveries').execute();
  };
  const sweeperWith = (fire: ReturnType<typeof recordingFire>['fire'], intervalMs = 3_600_000, stoppedSenders: string[] = []) => {
    const sweeper = startSweeper({
      db, fire, publisher: harness.publisher, logger: harness.logger,
      intervalMs, graceMs: 1000, clock, stoppedSenders: () => stoppedSenders,
    });
    sweepers.push(sweeper);
    return sweeper;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createKysely<ReadModels>(database.pool);
    harness = await startBrokerHarness();
  });
  afterAll(async () => {
    for (const sweeper of sweepers) await sweeper.stop();
    await harness?.cleanup();
    await database?.drop();
  });

  it('fires every step overdue by more than the grace period, and leaves the others to their timers', async () => {
    now = Date.now();
    const lost = await pendingStep(ago(5000));
    await pendingStep(ago(500));
    await pendingStep(new Date(now + 10_000));
    const recorder = recordingFire();

    const report = await sweeperWith(recorder.fire).sweep();

    expect(recorder.calls.map(({ alertId, epoch, loop, step }) => ({ alertId, epoch, loop, step }))).toEqual([
      { alertId: lost.alert_id, epoch: 1, loop: 0, step: 2 },
    ]);
    expect(report).toMatchObject({ stepsFired: 1, stepsNotFired: 0, failures: 0 });
    await removeAllPending();
  });

  it('keeps sweeping past a step it cannot fire', async () => {
    now = Date.now();
    const broken = await pendingStep(ago(9000));
    const fine = await pendingStep(ago(8000));
    const recorder = recordingFire((call) => {
      if (call.alertId === broken.alert_id) throw new Error('event store unavailable');
    });

    const report = await sweeperWith(recorder.fire).sweep();

    expect(recorder.calls.map((call) => call.alertId)).toEqual([broken.alert_id, fine.alert_id]);
    expect(report).toMatchObject({ stepsFired: 1, failures: 1 });
    await removeAllPending();
  });

  it('hands an overdue delivery back to the notifier, once per grace period while it stays overdue', async () => {
    now = Date.now();
    const stuck = await pendingDelivery(ago(5000));
    await pendingDelivery(new Date(now + 5000));
    const work = await collectQueue(await harness.channel(), harness.names.deliveriesQueue);
    const sweeper = sweeperWith(recordingFire().fire);

    expect((await sweeper.sweep()).deliveriesRedriven).toBe(1);
    await waitFor('the delivery work', () => work.received.length === 1);
    expect(deliveries(work.received)).toEqual([{ alertId: stuck.alert_id, deliveryId: stuck.delivery_id }]);

    expect((await sweeper.sweep()).deliveriesRedriven).toBe(0);
    now += 1500;
    expect((await sweeper.sweep()).deliveriesRedriven).toBe(1);
    await waitFor('the second hand-over', () => work.received.length === 2);
    await work.stop();
    await removeAllPending();
  });

  it('hands back at once, within its lease, a delivery whose attempt belongs to a stopped sender', async () => {
    now = Date.now();
    const orphaned = await pendingDelivery(new Date(now + 25_000), 'stopped-sender');
    await pendingDelivery(new Date(now + 25_000), 'live-sender');
    const work = await collectQueue(await harness.channel(), harness.names.deliveriesQueue);
    const sweeper = sweeperWith(recordingFire().fire, 3_600_000, ['stopped-sender']);

    expect((await sweeper.sweep()).deliveriesRedriven).toBe(1);
    await waitFor('the delivery work', () => work.received.length === 1);
    expect(deliveries(work.received)).toEqual([{ alertId: orphaned.alert_id, deliveryId: orphaned.delivery_id }]);
    await work.stop();
    await removeAllPending();
  });

  it("leaves an overdue delivery to the notifier's backlog while its queue holds work, up to its patience", async () => {
    now = Date.now();
    const channel = await harness.channel();
    for (let index = 0; index < 3; index++) await harness.publisher.publishDeliveryWork({ alertId: randomUUID(), deliveryId: randomUUID() });
    await waitFor('the backlog in the queue', async () => (await channel.checkQueue(harness.names.deliveriesQueue)).messageCount === 3);
    const queued = await pendingDelivery(ago(2000));
    const orphaned = await pendingDelivery(ago(2000), 'stopped-sender');
    const sweeper = sweeperWith(recordingFire().fire, 3_600_000, ['stopped-sender']);

    expect(await sweeper.sweep()).toMatchObject({ deliveriesRedriven: 1, deliveriesLeftToBacklog: 1 });
    await waitFor('the orphaned delivery in the queue', async () => (await channel.checkQueue(harness.names.deliveriesQueue)).messageCount === 4);

    now += 4000;
    expect(await sweeper.sweep()).toMatchObject({ deliveriesRedriven: 2, deliveriesLeftToBacklog: 0 });
    const work = await collectQueue(channel, harness.names.deliveriesQueue);
    await waitFor('every message of the queue', () => work.received.length === 6);
    const handedBack = deliveries(work.received).slice(3).map((item) => item.deliveryId);
    expect(handedBack.filter((id) => id === queued.delivery_id)).toHaveLength(1);
    expect(handedBack.filter((id) => id === orphaned.delivery_id)).toHaveLength(2);
    await work.stop();
    await removeAllPending();
  });

  it('stops handing deliveries back for the rest of a pass once the broker refuses one, and tries again next pass', async () => {
    now = Date.now();
    await pendingDelivery(ago(9000));
    await pendingDelivery(ago(8000));
    await pendingDelivery(ago(7000));
    let brokerUp = false;
    const published: string[] = [];
    const sweeper = startSweeper({
      db,
      fire: recordingFire().fire,
      publisher: {
        async publishDeliveryWork(work) {
          if (!brokerUp) throw new Error('not connected to the message broker');
          published.push(work.deliveryId);
        },
      },
      logger: harness.logger,
      intervalMs: 3_600_000,
      graceMs: 1000,
      clock,
    });
    sweepers.push(sweeper);

    expect(await sweeper.sweep()).toMatchObject({ deliveriesRedriven: 0, failures: 1 });
    brokerUp = true;
    expect(await sweeper.sweep()).toMatchObject({ deliveriesRedriven: 3, failures: 0 });
    expect(published).toHaveLength(3);
    await removeAllPending();
  });

  it('sweeps by itself every interval', async () => {
    now = Date.now();
    const lost = await pendingStep(ago(3000));
    const recorder = recordingFire();
    sweeperWith(recorder.fire, 100);
    await waitFor('the loop to fire the overdue step', () => recorder.calls.some((call) => call.alertId === lost.alert_id), { timeoutMs: 3000 });
  });
});
