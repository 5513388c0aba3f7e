import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createCatalog } from '../../src/catalog.js';
import { fireEscalationStep, triggerAlert } from '../../src/commands/alerts.js';
import { alertStreamId } from '../../src/domain/alert/identity.js';
import type { AlertEventOf } from '../../src/domain/alert/events.js';
import { PostgresEventStore } from '../../src/eventstore/postgres.js';
import { declareDelayCascade } from '../../src/infra/delay-cascade.js';
import { createMetrics } from '../../src/infra/metrics.js';
import type { TimerMessage } from '../../src/infra/broker-messages.js';
import { type FireEscalationStep, startTimerConsumer, type TimerConsumer } from '../../src/workers/timer-consumer.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait.js';
import { type BrokerHarness, collectQueue, deliveries, type FiredStep, recordingFire, startBrokerHarness } from './broker-harness.js';

describe('timer consumer', () => {
  let harness: BrokerHarness;
  let consumer: TimerConsumer | undefined;
  const metrics = createMetrics();
  const logged: { msg: string; consumer?: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line)) });
  const recorder = recordingFire((call, calls) => {
    if (call.step === 7 && calls.filter((earlier) => earlier.alertId === call.alertId).length === 1) {
      throw new Error('the event store is unavailable');
    }
    return call.step === 9 ? { fired: false, lagMs: null } : { fired: true, lagMs: 40 };
  });
  const callsFor = (alertId: string) => recorder.calls.filter((call) => call.alertId === alertId);
  const escalationTimer = (step: number, dueInMs = 100): TimerMessage => ({
    kind: 'escalation', alertId: randomUUID(), epoch: 3, loop: 1, step, dueAt: new Date(Date.now() + dueInMs).toISOString(),
  });

  beforeAll(async () => {
    harness = await startBrokerHarness();
    consumer = await startTimerConsumer({
      broker: harness.broker, names: harness.names, publisher: harness.publisher, fire: recorder.fire, logger,
      escalationLag: metrics.escalationLag, retryDelayMs: 300,
    });
  });
  afterAll(async () => {
    await consumer?.stop();
    await harness?.cleanup();
  });

  it('a timer delivered twice reaches the engine twice, and both copies are acked (the engine decides)', async () => {
    const timer = escalationTimer(0);
    await harness.publisher.publishTimers([timer]);
    await harness.publisher.publishTimers([timer]);
    await waitFor('both copies to reach the engine', () => callsFor(timer.alertId).length === 2);
    for (const call of callsFor(timer.alertId)) {
      expect(call).toMatchObject({ epoch: 3, loop: 1, step: 0 });
      expect(call.calledAt).toBeGreaterThanOrEqual(Date.parse(timer.dueAt));
    }
  });

  it('timers due within the same second travel as one message, and each fires at its own due time', async () => {
    const now = Date.now();
    const batch = Array.from({ length: 40 }, (_, index) => ({ ...escalationTimer(1), dueAt: new Date(now + 2400 + index * 15).toISOString() }));
    const channel = await harness.channel();
    await harness.publisher.publishTimers(batch, new Date(now));
    // 2.4 to 3 s ahead: all held 2 s, in the level-1 queue, as one message.
    expect((await channel.checkQueue(harness.names.delayLevelQueue(1))).messageCount).toBe(1);
    await waitFor('every timer to fire', () => batch.every((timer) => callsFor(timer.alertId).length === 1), { timeoutMs: 10_000 });
    for (const timer of batch) expect(callsFor(timer.alertId)[0]!.calledAt).toBeGreaterThanOrEqual(Date.parse(timer.dueAt));
  });

  it('a timer whose action failed goes back to the queue and fires on redelivery', async () => {
    const timer = escalationTimer(7);
    await harness.publisher.publishTimers([timer]);
    const [failed, retried] = await waitFor('the retry to reach the engine', () => callsFor(timer.alertId).length === 2 && callsFor(timer.alertId));
    expect(retried!.calledAt - failed!.calledAt).toBeGreaterThanOrEqual(300);
  });

  it('observes escalation lag only for steps that actually fired', async () => {
    // Summed over the steps: the histogram has a series per step.
    const lagTotal = async (metricName: string) =>
      (await metrics.escalationLag.get()).values.filter((value) => value.metricName === metricName).reduce((sum, value) => sum + value.value, 0);
    const lagCount = () => lagTotal('alertops_escalation_lag_seconds_count');
    const before = await lagCount();
    const stale = escalationTimer(9);
    await harness.publisher.publishTimers([stale]);
    await waitFor('the stale timer to reach the engine', () => callsFor(stale.alertId).length === 1);
    const live = escalationTimer(1);
    await harness.publisher.publishTimers([live]);
    await waitFor('the live timer to reach the engine', () => callsFor(live.alertId).length === 1);
    await waitFor('one more lag observation', async () => (await lagCount()) === before + 1);
    expect(await lagTotal('alertops_escalation_lag_seconds_sum')).toBeGreaterThanOrEqual(0.04);
  });

  it('drops a malformed message and keeps consuming', async () => {
    const channel = await harness.channel();
    channel.sendToQueue(harness.names.timersDueQueue, Buffer.from('{"kind":"escalation","alertId":"not-a-uuid"}'));
    channel.sendToQueue(harness.names.timersDueQueue, Buffer.from('not json at all'));
    const timer = escalationTimer(2);
    await harness.publisher.publishTimers([timer]);
    await waitFor('the valid timer behind them to fire', () => callsFor(timer.alertId).length === 1);
    expect(logged.filter((line) => line.msg === 'malformed timer message dropped')).toHaveLength(2);
    expect(recorder.calls.every((call: FiredStep) => call.alertId !== 'not-a-uuid')).toBe(true);
  });

  it('hands a due delivery timer back to the notifier as delivery work', async () => {
    const channel = await harness.channel();
    const work = await collectQueue(channel, harness.names.deliveriesQueue);
    const timer: TimerMessage = { kind: 'delivery', alertId: randomUUID(), deliveryId: randomUUID(), dueAt: new Date(Date.now() + 1500).toISOString() };
    await harness.publisher.publishTimers([timer]);
    const [arrived] = await waitFor('the delivery work', () => work.received.length === 1 && work.received, { timeoutMs: 5000 });
    await work.stop();
    expect(deliveries([arrived!])).toEqual([{ alertId: timer.alertId, deliveryId: timer.deliveryId }]);
    expect(arrived!.receivedAt).toBeGreaterThanOrEqual(Date.parse(timer.dueAt));
  });

  it('hands a due subscription timer back to the subscription sender as work, with the position it waits for', async () => {
    const channel = await harness.channel();
    const work = await collectQueue(channel, harness.names.subscriptionDeliveriesQueue);
    const timer: TimerMessage = {
      kind: 'subscription',
      teamId: randomUUID(),
      subscriptionId: randomUUID(),
      alertId: randomUUID(),
      after: { transactionId: '812', globalPosition: '4096' },
      dueAt: new Date(Date.now() + 1200).toISOString(),
    };
    await harness.publisher.publishTimers([timer]);
    const [arrived] = await waitFor('the subscription work', () => work.received.length === 1 && work.received, { timeoutMs: 5000 });
    await work.stop();
    const { kind: _kind, dueAt: _dueAt, ...expected } = timer;
    expect(arrived!.body).toEqual(expected);
    expect(arrived!.receivedAt).toBeGreaterThanOrEqual(Date.parse(timer.dueAt));
  });

  it('sends a timer due beyond the cascade remainder round again instead of holding it in memory', async () => {
    const channel = await harness.channel();
    // Straight into the due queue, as a timer beyond the cascade's range (or a clock jump) would arrive.
    const timer = escalationTimer(4, 6500);
    channel.sendToQueue(harness.names.timersDueQueue, Buffer.from(JSON.stringify(timer)));
    await waitFor('the early timer to be parked in the cascade', async () => (await channel.checkQueue(harness.names.delayLevelQueue(2))).messageCount === 1);
    expect(callsFor(timer.alertId)).toHaveLength(0);
    await waitFor('the timer to fire once due', () => callsFor(timer.alertId).length === 1, { timeoutMs: 10_000 });
    expect(callsFor(timer.alertId)[0]!.calledAt).toBeGreaterThanOrEqual(Date.parse(timer.dueAt));
  });

  it('resubscribes by itself after the broker cancels it', async () => {
    const channel = await harness.channel();
    await channel.deleteQueue(harness.names.timersDueQueue);
    await waitFor('the consumer to be cancelled', () => logged.some((line) => line.msg === 'the broker cancelled the consumer; resubscribing' && line.consumer === 'timer-consumer'));
    await declareDelayCascade(harness.broker.current(), harness.names);
    const timer = escalationTimer(5, 300);
    await harness.publisher.publishTimers([timer]);
    await waitFor('the timer to fire through the new subscription', () => callsFor(timer.alertId).length === 1, { timeoutMs: 15_000 });
  });

  it('leaves nothing unacked behind: once it stops, the due queue holds nothing to redeliver', async () => {
    const channel = await harness.channel();
    await consumer!.stop();
    consumer = undefined;
    expect((await channel.checkQueue(harness.names.timersDueQueue)).messageCount).toBe(0);
  });
});

describe('timer consumer with the fenced engine', () => {
  const catalog = createCatalog();
  const metrics = createMetrics();
  let database: TestDatabase;
  let eventStore: PostgresEventStore;
  let harness: BrokerHarness;
  let consumer: TimerConsumer | undefined;
  /** What the engine decided for each timer the consumer handed it, in the order the decisions returned. */
  const decisions: { alertId: string; step: number; fired: boolean }[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    eventStore = new PostgresEventStore(database.pool);
    harness = await startBrokerHarness();
    const fire: FireEscalationStep = async (input) => {
      const result = await fireEscalationStep({ eventStore, catalog }, input);
      decisions.push({ alertId: input.alertId, step: input.step, fired: result.fired });
      return result;
    };
    consumer = await startTimerConsumer({
      broker: harness.broker, names: harness.names, publisher: harness.publisher, fire, logger: harness.logger,
      escalationLag: metrics.escalationLag, escalationTimers: metrics.escalationTimers,
    });
  });
  afterAll(async () => {
    await consumer?.stop();
    await harness?.cleanup();
    await database?.drop();
  });

  it('a timer delivered twice fires its step once: both copies reach the fire path, one fires, the other decides nothing', async () => {
    const oncall = (name: string, delaySeconds: number) => ({
      id: randomUUID(), name, delaySeconds, target: { type: 'email' as const, email: `${name}@example.com` }, retry: { maxAttempts: 1, backoffSeconds: 1 },
    });
    const triggered = await triggerAlert({ eventStore, catalog, pool: database.pool }, {
      teamId: randomUUID(), flow: { flowId: randomUUID(), version: 1, repeat: 0, nodes: [oncall('first', 1), oncall('second', 3600)] },
      summary: 'disk full', details: null, severity: 'critical', dedupKey: null, source: 'test', actor: 'system:test', now: new Date(),
    });
    const stream = async () => (await eventStore.readStream(alertStreamId(triggered.alertId))).map((event) => catalog.parse<AlertEventOf<any>>(event));
    const scheduled = (await stream()).find((event) => event.type === 'EscalationStepScheduled')!.data as AlertEventOf<'EscalationStepScheduled'>['data'];
    const timer: TimerMessage = { kind: 'escalation', alertId: triggered.alertId, epoch: scheduled.epoch, loop: 0, step: 0, dueAt: scheduled.dueAt };
    // Both copies arrive before their due time, wait it out side by side and reach the engine together.
    await harness.publisher.publishTimers([timer]);
    await harness.publisher.publishTimers([timer]);

    const decided = await waitFor('both copies to go through the fire path', () => {
      const mine = decisions.filter((decision) => decision.alertId === triggered.alertId);
      return mine.length >= 2 && mine;
    });
    expect(decided.map((decision) => decision.fired).sort()).toEqual([false, true]);
    const events = await stream();
    expect(events.filter((event) => event.type === 'EscalationStepFired').map((event) => event.data.step)).toEqual([0]);
    expect(events.filter((event) => event.type === 'NotificationRequested')).toHaveLength(1);
    const outcomes = (await metrics.escalationTimers.get()).values.map((value) => [value.labels.outcome, value.value]);
    expect(Object.fromEntries(outcomes)).toEqual({ fired: 1, 'no-op': 1 });
  });
});
