import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCatalog } from '../../src/catalog.js';
import type { AlertEvent } from '../../src/domain/alert/events.js';
import { PostgresEventStore } from '../../src/eventstore/postgres.js';
import { comparePositions, type LogPosition } from '../../src/eventstore/types.js';
import { declareDeliveriesQueue } from '../../src/infra/delay-cascade.js';
import { SubscriptionRunner } from '../../src/projections/runner.js';
import { escalationRelay } from '../../src/workers/escalation-relay.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait.js';
import { type BrokerHarness, collectQueue, deliveries, startBrokerHarness, timers } from './broker-harness.js';

describe('escalation relay', () => {
  let database: TestDatabase;
  let harness: BrokerHarness;
  let eventStore: PostgresEventStore;
  let runner: SubscriptionRunner | undefined;
  let dueTimers: Awaited<ReturnType<typeof collectQueue>>;
  let deliveryWork: Awaited<ReturnType<typeof collectQueue>>;
  const catalog = createCatalog();
  const teamId = randomUUID();

  const startRelay = () => {
    const relay = new SubscriptionRunner(escalationRelay(harness.publisher), {
      databaseUrl: database.url, eventStore, catalog, logger: harness.logger, idlePollMs: 100,
    });
    relay.start();
    return relay;
  };
  const append = async (alertId: string, events: AlertEvent[]): Promise<LogPosition> => {
    const result = await eventStore.append(
      `alert-${alertId}`,
      events.map((event) => ({ type: event.type, data: event.data, schemaVersion: 1 })),
      { expectedVersion: 'any', metadata: { actor: 'system:test', correlationId: randomUUID(), causationId: null, teamId } },
    );
    return result.position;
  };
  const checkpointPassed = (position: LogPosition) => () => comparePositions(runner!.status().checkpoint, position) >= 0;
  const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();
  const node = { nodeId: randomUUID(), target: { type: 'email' as const, email: 'oncall@example.com' }, retry: { maxAttempts: 3, backoffSeconds: 1 } };

  beforeAll(async () => {
    database = await createTestDatabase();
    eventStore = new PostgresEventStore(database.pool);
    harness = await startBrokerHarness();
    dueTimers = await collectQueue(await harness.channel(), harness.names.timersDueQueue);
    deliveryWork = await collectQueue(await harness.channel(), harness.names.deliveriesQueue);
  });
  afterAll(async () => {
    await runner?.stop();
    await harness?.cleanup();
    await database?.drop();
  });

  it('publishes a timer per scheduled step, retry and delayed rule, and delivery work per notification due now only', async () => {
    runner = startRelay();
    const alertId = randomUUID();
    const [requested, retried, abandoned, unresolved, delayed] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const stepDueAt = inSeconds(0.2);
    const retryAt = inSeconds(0.3);
    const notBefore = inSeconds(0.4);
    const now = new Date().toISOString();
    const position = await append(alertId, [
      { type: 'EscalationStepScheduled', data: { alertId, epoch: 2, loop: 1, step: 3, dueAt: stepDueAt } },
      { type: 'NotificationRequested', data: { alertId, deliveryId: requested, loop: 1, step: 3, ...node, requestedAt: now } },
      { type: 'NotificationRequested', data: { alertId, deliveryId: delayed, loop: 1, step: 3, ...node, requestedAt: now, notBefore } },
      { type: 'NotificationFailed', data: { alertId, deliveryId: retried, attempt: 1, error: 'timeout', failedAt: now, retryAt } },
      { type: 'NotificationFailed', data: { alertId, deliveryId: abandoned, attempt: 3, error: 'timeout', failedAt: now, retryAt: null } },
      { type: 'NotificationOutcomeUnknown', data: { alertId, deliveryId: unresolved, attempt: 1, policy: 'resend', at: now } },
      { type: 'AlertAcknowledged', data: { alertId, epoch: 3, by: 'user:someone', at: now } },
    ]);

    await waitFor('the relay to pass the events', checkpointPassed(position));
    await waitFor('three timers', () => timers(dueTimers.received).length === 3);
    await waitFor('the delivery work', () => deliveryWork.received.length === 1);
    expect(timers(dueTimers.received)).toEqual(
      expect.arrayContaining([
        { kind: 'escalation', alertId, epoch: 2, loop: 1, step: 3, dueAt: stepDueAt },
        { kind: 'delivery', alertId, deliveryId: retried, teamId, dueAt: retryAt },
        { kind: 'delivery', alertId, deliveryId: delayed, teamId, dueAt: notBefore },
      ]),
    );
    // An unresolved attempt is resent by the start that records it as unknown, never by a second message.
    expect(deliveries(deliveryWork.received)).toEqual([{ alertId, deliveryId: requested, teamId }]);
  });

  it('a relay restarted from its checkpoint publishes what was appended while it was down, and nothing twice', async () => {
    await runner!.stop();
    const alertId = randomUUID();
    const deliveryId = randomUUID();
    const dueAt = inSeconds(0.1);
    const position = await append(alertId, [
      { type: 'EscalationStepScheduled', data: { alertId, epoch: 0, loop: 0, step: 0, dueAt } },
      { type: 'NotificationRequested', data: { alertId, deliveryId, loop: 0, step: 0, ...node, requestedAt: new Date().toISOString() } },
    ]);

    runner = startRelay();
    await waitFor('the restarted relay to pass the new events', checkpointPassed(position));
    await waitFor('the new timer', () => timers(dueTimers.received).length >= 4);
    await waitFor('the new delivery work', () => deliveryWork.received.length >= 2);
    expect(timers(dueTimers.received).slice(3)).toEqual([{ kind: 'escalation', alertId, epoch: 0, loop: 0, step: 0, dueAt }]);
    expect(deliveries(deliveryWork.received).slice(1)).toEqual([{ alertId, deliveryId, teamId }]);
  });

  it('keeps its checkpoint while the broker cannot take a message, and publishes it once the broker can', async () => {
    const channel = await harness.channel();
    await deliveryWork.stop();
    await channel.deleteQueue(harness.names.deliveriesQueue);
    const before = runner!.status().checkpoint;
    const alertId = randomUUID();
    const deliveryId = randomUUID();
    const position = await append(alertId, [
      { type: 'NotificationRequested', data: { alertId, deliveryId, loop: 0, step: 0, ...node, requestedAt: new Date().toISOString() } },
    ]);

    await waitFor('the relay to report the refused message', () => /could not route/.test(runner!.status().lastError ?? ''));
    expect(comparePositions(runner!.status().checkpoint, before)).toBe(0);
    expect(comparePositions(before, position)).toBeLessThan(0);

    await declareDeliveriesQueue(channel, harness.names);
    const redelivered = await collectQueue(channel, harness.names.deliveriesQueue);
    await waitFor('the refused message to be published after all', () => redelivered.received.length === 1, { timeoutMs: 15_000 });
    expect(deliveries(redelivered.received)).toEqual([{ alertId, deliveryId, teamId }]);
    await waitFor('the checkpoint to move past it', checkpointPassed(position));
  });
});
