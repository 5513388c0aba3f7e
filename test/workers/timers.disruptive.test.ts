import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTimerConsumer, type TimerConsumer } from '../../src/workers/timer-consumer.js';
import { brokerRestartsAvailable, brokerServing, rabbitmqctl } from '../support/broker-control.js';
import { waitFor } from '../support/wait.js';
import { type BrokerHarness, recordingFire, startBrokerHarness } from './broker-harness.js';

const run = promisify(execFile);

describe.skipIf(!brokerRestartsAvailable())('timers across a broker restart', () => {
  let harness: BrokerHarness;
  let consumer: TimerConsumer | undefined;
  const recorder = recordingFire();

  beforeAll(async () => {
    harness = await startBrokerHarness();
    consumer = await startTimerConsumer({ broker: harness.broker, names: harness.names, publisher: harness.publisher, fire: recorder.fire, logger: harness.logger });
  });
  afterAll(async () => {
    await consumer?.stop();
    await harness?.cleanup();
  });

  it('a timer in the middle of its delay survives the restart, and the consumer resumes by itself', async () => {
    const channel = await harness.channel();
    const inFlight = { kind: 'escalation' as const, alertId: randomUUID(), epoch: 0, loop: 0, step: 0, dueAt: new Date(Date.now() + 6000).toISOString() };
    await harness.publisher.publishTimers([inFlight]);
    // 6 s is held as 5 s = 4 + 1: first in the level-2 queue.
    await waitFor('the timer to sit in the cascade', async () => (await channel.checkQueue(harness.names.delayLevelQueue(2))).messageCount === 1);

    const restartStartedAt = Date.now();
    await run(rabbitmqctl, ['stop_app']);
    await waitFor('the connection to notice', () => !harness.broker.connected, { timeoutMs: 10_000 });
    await run(rabbitmqctl, ['start_app']);
    await brokerServing(inject('amqpUrl'));
    await waitFor('the broker connection to heal', () => harness.broker.connected, { timeoutMs: 60_000 });
    console.log(`broker restart and reconnect took ${Date.now() - restartStartedAt} ms`);

    const [fired] = await waitFor('the timer published before the restart to fire', () => recorder.calls.length === 1 && recorder.calls, { timeoutMs: 60_000 });
    expect(fired!.alertId).toBe(inFlight.alertId);
    expect(fired!.calledAt).toBeGreaterThanOrEqual(Date.parse(inFlight.dueAt));
    console.log(`timer fired ${fired!.calledAt - Date.parse(inFlight.dueAt)} ms after it was due`);

    const afterRestart = { kind: 'escalation' as const, alertId: randomUUID(), epoch: 0, loop: 0, step: 1, dueAt: new Date(Date.now() + 1500).toISOString() };
    await waitFor('the publisher to be usable again', () => harness.publisher.publishTimers([afterRestart]).then(() => true), { timeoutMs: 30_000, intervalMs: 500 });
    const second = await waitFor('a timer published after the restart to fire', () => recorder.calls.find((call) => call.alertId === afterRestart.alertId), { timeoutMs: 10_000 });
    expect(second.calledAt - Date.parse(afterRestart.dueAt)).toBeGreaterThanOrEqual(0);
    expect(second.calledAt - Date.parse(afterRestart.dueAt)).toBeLessThanOrEqual(250);
  });
});
