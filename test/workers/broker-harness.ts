import type amqp from 'amqplib';
import { inject } from 'vitest';
import { BrokerConnection } from '../../src/infra/amqp.js';
import { type BrokerNames, declareDelayCascade, deleteDelayCascade, EscalationPublisher } from '../../src/infra/delay-cascade.js';
import { createLogger, type Logger } from '../../src/infra/logger.js';
import { brokerNames, type DeliveryWork, TimerBatch } from '../../src/infra/broker-messages.js';
import type { FireEscalationStep } from '../../src/workers/timer-consumer.js';
import { uniqueName } from '../support/database.js';

export interface BrokerHarness {
  names: BrokerNames;
  logger: Logger;
  broker: BrokerConnection;
  publisher: EscalationPublisher;
  /** A plain channel for looking at queues the way a test needs to (get, purge, delete). */
  channel(): Promise<amqp.Channel>;
  cleanup(): Promise<void>;
}

/** A broker connection with the cascade declared under a prefix of its own, deleted again by cleanup(). */
export async function startBrokerHarness(): Promise<BrokerHarness> {
  const names = brokerNames(uniqueName('alertops_test').toLowerCase());
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const broker = new BrokerConnection(inject('amqpUrl'), logger);
  await broker.start();
  await broker.register('delay-cascade', (connection) => declareDelayCascade(connection, names));
  const publisher = new EscalationPublisher(names, logger);
  await broker.register('escalation-publisher', publisher.attach);
  const channels: amqp.Channel[] = [];
  return {
    names,
    logger,
    broker,
    publisher,
    async channel() {
      const channel = await broker.current().createChannel();
      channel.on('error', () => undefined);
      channels.push(channel);
      return channel;
    },
    async cleanup() {
      for (const channel of channels) await channel.close().catch(() => undefined);
      await publisher.close();
      if (broker.connected) await deleteDelayCascade(broker.current(), names);
      await broker.close();
    },
  };
}

export interface FiredStep {
  alertId: string;
  epoch: number;
  loop: number;
  step: number;
  now: Date;
  /** Wall-clock time the engine was called. */
  calledAt: number;
}

/** A stand-in for the engine's fire path that records every call; `respond` may throw to simulate a failure. */
export function recordingFire(
  respond: (call: FiredStep, calls: FiredStep[]) => { fired: boolean; lagMs: number | null } | void = () => undefined,
) {
  const calls: FiredStep[] = [];
  const fire: FireEscalationStep = async (input) => {
    const call = { ...input, calledAt: Date.now() };
    calls.push(call);
    return respond(call, calls) ?? { fired: true, lagMs: null };
  };
  return { calls, fire };
}

/** Collects every message on a queue as parsed JSON (with its headers), acking each. */
export async function collectQueue(channel: amqp.Channel, queue: string) {
  const received: { body: unknown; headers: amqp.MessagePropertyHeaders | undefined; receivedAt: number }[] = [];
  const { consumerTag } = await channel.consume(queue, (message) => {
    if (!message) return;
    received.push({ body: JSON.parse(message.content.toString('utf8')), headers: message.properties.headers, receivedAt: Date.now() });
    channel.ack(message);
  });
  return { received, stop: () => channel.cancel(consumerTag) };
}

export const timers = (received: { body: unknown }[]) => received.flatMap(({ body }) => TimerBatch.parse(body).timers);
export const deliveries = (received: { body: unknown }[]) => received.map(({ body }) => body as DeliveryWork);
