import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCatalog } from '../../src/catalog.js';
import type { AlertEvent } from '../../src/domain/alert/events.js';
import { PostgresEventStore } from '../../src/eventstore/postgres.js';
import { SubscriptionRunner } from '../../src/projections/runner.js';
import { escalationRelay } from '../../src/workers/escalation-relay.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait.js';
import { type BrokerHarness, collectQueue, startBrokerHarness, timers } from './broker-harness.js';

describe('escalation relay: acknowledged alerts due to be triggered again', () => {
  let database: TestDatabase;
  let harness: BrokerHarness;
  let runner: SubscriptionRunner | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
    harness = await startBrokerHarness();
  });
  afterAll(async () => {
    await runner?.stop();
    await harness?.cleanup();
    await database?.drop();
  });

  it('publishes a retrigger timer, with its epoch, for an acknowledgement timeout and for the end of a snooze', async () => {
    const eventStore = new PostgresEventStore(database.pool);
    const dueTimers = await collectQueue(await harness.channel(), harness.names.timersDueQueue);
    runner = new SubscriptionRunner(escalationRelay(harness.publisher), {
      databaseUrl: database.url, eventStore, catalog: createCatalog(), logger: harness.logger, idlePollMs: 100,
    });
    runner.start();
    const alertId = randomUUID();
    const now = new Date().toISOString();
    const timeoutDueAt = new Date(Date.now() + 200).toISOString();
    const snoozedUntil = new Date(Date.now() + 400).toISOString();
    const events: AlertEvent[] = [
      { type: 'AlertAcknowledged', data: { alertId, epoch: 1, by: 'user:someone', at: now } },
      { type: 'AcknowledgementTimeoutScheduled', data: { alertId, epoch: 1, dueAt: timeoutDueAt } },
      { type: 'AlertSnoozed', data: { alertId, epoch: 2, by: 'user:someone', at: now, until: snoozedUntil } },
    ];
    await eventStore.append(
      `alert-${alertId}`,
      events.map((event) => ({ type: event.type, data: event.data, schemaVersion: 1 })),
      { expectedVersion: 'any', metadata: { actor: 'system:test', correlationId: randomUUID(), causationId: null, teamId: randomUUID() } },
    );
    await waitFor('two timers', () => timers(dueTimers.received).length === 2, { timeoutMs: 20_000 });
    expect(timers(dueTimers.received)).toEqual(
      expect.arrayContaining([
        { kind: 'retrigger', alertId, epoch: 1, dueAt: timeoutDueAt },
        { kind: 'retrigger', alertId, epoch: 2, dueAt: snoozedUntil },
      ]),
    );
  });
});
