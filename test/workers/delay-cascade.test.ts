import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ARRIVAL_MARGIN_MS,
  cascadeDelaySeconds,
  declareDelayCascade,
  delayRoutingKey,
  deleteDelayCascade,
  MAX_DELAY_SECONDS,
  PublishRefusedError,
  publishDeliveryWork,
  TopologyError,
} from '../../src/infra/delay-cascade.js';
import { brokerNames } from '../../src/infra/broker-messages.js';
import { startTimerConsumer, type TimerConsumer } from '../../src/workers/timer-consumer.js';
import { uniqueName } from '../support/database.js';
import { waitFor } from '../support/wait.js';
import { type BrokerHarness, collectQueue, recordingFire, startBrokerHarness } from './broker-harness.js';

describe('delay arithmetic', () => {
  it('spells the delay in binary, most significant level first, one digit per level', () => {
    expect(delayRoutingKey(0)).toBe(Array(20).fill('0').join('.'));
    expect(delayRoutingKey(5).split('.')).toHaveLength(20);
    expect(delayRoutingKey(5).endsWith('.1.0.1')).toBe(true);
    expect(delayRoutingKey(MAX_DELAY_SECONDS)).toBe(Array(20).fill('1').join('.'));
  });

  it('holds whole seconds that end before dueAt, leaving the remainder to the consumer', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const after = (ms: number) => new Date(now.getTime() + ms);
    expect(cascadeDelaySeconds(after(300), now)).toBe(0);
    expect(cascadeDelaySeconds(after(2700), now)).toBe(2);
    expect(cascadeDelaySeconds(after(3000 + ARRIVAL_MARGIN_MS), now)).toBe(3);
    expect(cascadeDelaySeconds(after(3000 + ARRIVAL_MARGIN_MS - 1), now)).toBe(2);
    expect(cascadeDelaySeconds(after(-5000), now)).toBe(0);
    expect(cascadeDelaySeconds(after(7 * 86_400_000), now)).toBe(7 * 86_400 - 1);
    expect(cascadeDelaySeconds(after(30 * 86_400_000), now)).toBe(MAX_DELAY_SECONDS);
  });
});

describe('delay cascade on RabbitMQ', () => {
  let harness: BrokerHarness;
  let consumer: TimerConsumer | undefined;
  beforeAll(async () => {
    harness = await startBrokerHarness();
  });
  afterAll(async () => {
    await consumer?.stop();
    await harness?.cleanup();
  });

  it('routes a 3-second delay through the level-1 and level-0 queues only, arriving before it is due', async () => {
    const channel = await harness.channel();
    const due = await collectQueue(channel, harness.names.timersDueQueue);
    const publishedAt = Date.now();
    const dueAt = publishedAt + 3000 + ARRIVAL_MARGIN_MS + 100;
    await harness.publisher.publishTimers([{ kind: 'escalation', alertId: randomUUID(), epoch: 0, loop: 0, step: 0, dueAt: new Date(dueAt).toISOString() }]);

    const [arrived] = await waitFor('the timer to leave the cascade', () => due.received.length === 1 && due.received, { timeoutMs: 8000 });
    await due.stop();
    const deaths = (arrived!.headers?.['x-death'] ?? []) as { queue: string; reason: string }[];
    expect(deaths.map((death) => death.queue).sort()).toEqual([harness.names.delayLevelQueue(0), harness.names.delayLevelQueue(1)]);
    expect(deaths.every((death) => death.reason === 'expired')).toBe(true);
    expect(arrived!.receivedAt - publishedAt).toBeGreaterThanOrEqual(3000);
    expect(arrived!.receivedAt).toBeLessThan(dueAt);
  });

  it('acts on timers of 0.3 s, 1.2 s, 2.7 s and 7.5 s (three bits) within 250 ms after they are due', async () => {
    const recorder = recordingFire();
    consumer = await startTimerConsumer({ broker: harness.broker, names: harness.names, publisher: harness.publisher, fire: recorder.fire, logger: harness.logger });
    const delaysMs = [300, 1200, 2700, 7500];
    const now = Date.now();
    const dueAtByAlert = new Map<string, number>();
    await Promise.all(
      delaysMs.map((delayMs) => {
        const alertId = randomUUID();
        dueAtByAlert.set(alertId, now + delayMs);
        return harness.publisher.publishTimers(
          [{ kind: 'escalation', alertId, epoch: 1, loop: 0, step: 2, dueAt: new Date(now + delayMs).toISOString() }],
          new Date(now),
        );
      }),
    );

    await waitFor('every timer to fire', () => recorder.calls.length === delaysMs.length, { timeoutMs: 15_000 });
    const lags = recorder.calls.map((call) => ({ delayMs: dueAtByAlert.get(call.alertId)! - now, lagMs: call.calledAt - dueAtByAlert.get(call.alertId)! }));
    console.log('cascade timer lag (ms after dueAt):', lags.map(({ delayMs, lagMs }) => `${delayMs / 1000}s -> ${lagMs}`).join(', '));
    expect(lags.map(({ delayMs }) => delayMs)).toEqual(delaysMs);
    for (const { lagMs } of lags) {
      expect(lagMs).toBeGreaterThanOrEqual(0);
      expect(lagMs).toBeLessThanOrEqual(250);
    }
    expect(recorder.calls.every((call) => call.epoch === 1 && call.loop === 0 && call.step === 2)).toBe(true);
  });

  it('keeps publishing after the broker closed the publishing channel', async () => {
    const channel = await harness.channel();
    await channel.deleteExchange(harness.names.delayExchange);
    const timer = { kind: 'escalation' as const, alertId: randomUUID(), epoch: 0, loop: 0, step: 0, dueAt: new Date().toISOString() };
    await expect(harness.publisher.publishTimers([timer])).rejects.toThrow(/NOT_FOUND/);
    await declareDelayCascade(harness.broker.current(), harness.names);
    await harness.publisher.publishTimers([timer]);
  });

  it('refuses to start on a pre-existing queue with conflicting arguments, naming the queue and the argument', async () => {
    const names = brokerNames(uniqueName('alertops_test').toLowerCase());
    const channel = await harness.channel();
    await channel.assertQueue(names.delayLevelQueue(3), { durable: true, arguments: { 'x-message-ttl': 1000 } });
    try {
      const failure = await declareDelayCascade(harness.broker.current(), names).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(TopologyError);
      expect((failure as Error).message).toMatch(new RegExp(`queue '${names.delayLevelQueue(3).replaceAll('.', '\\.')}'`));
      expect((failure as Error).message).toMatch(/PRECONDITION_FAILED - inequivalent arg/);
    } finally {
      await deleteDelayCascade(harness.broker.current(), names);
    }
  });

  it('reports a message the broker cannot route as an error instead of dropping it', async () => {
    const undeclared = brokerNames(uniqueName('alertops_test').toLowerCase());
    const confirmChannel = await harness.broker.current().createConfirmChannel();
    try {
      const failure = await publishDeliveryWork(confirmChannel, undeclared, { alertId: randomUUID(), deliveryId: randomUUID() }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(PublishRefusedError);
      expect((failure as Error).message).toMatch(/NO_ROUTE/);
      await publishDeliveryWork(confirmChannel, harness.names, { alertId: randomUUID(), deliveryId: randomUUID() });
    } finally {
      await confirmChannel.close();
    }
  });
});
