import { randomUUID } from 'node:crypto';
import type amqp from 'amqplib';
import { type brokerNames, type DeliveryWork, MAX_TIMERS_PER_MESSAGE, type SubscriptionWork, type TimerMessage } from './broker-messages.js';
import type { AmqpConnection } from './amqp.js';
import type { Logger } from './logger.js';
import { type Attributes, SpanAttribute, SpanKind, traced, traceHeaders } from './tracing.js';

export type BrokerNames = ReturnType<typeof brokerNames>;
export type ConfirmChannel = amqp.ConfirmChannel;

/** Levels 0..19 hold a message for 2^level seconds; together they cover up to 2^20 - 1 s (about 12 days). */
export const DELAY_LEVELS = 20;
export const MAX_DELAY_SECONDS = 2 ** DELAY_LEVELS - 1;

/**
 * How much earlier than `dueAt` a timer aims to leave the cascade. Each set bit costs one TTL expiry and one
 * at-least-once dead-letter hop, a few milliseconds each; arriving early is free (the consumer waits the rest),
 * arriving late is lag.
 */
export const ARRIVAL_MARGIN_MS = 300;

const MINIMUM_RABBITMQ_VERSION = [3, 10] as const;

/** The broker cannot provide the topology the escalation engine relies on. Startup must stop here. */
export class TopologyError extends Error {
  override name = 'TopologyError';
}

/** A mandatory message the broker could not route to any queue (basic.return), or one it refused (nack). */
export class PublishRefusedError extends Error {
  override name = 'PublishRefusedError';
}

const quorum = { 'x-queue-type': 'quorum' } as const;

/** Arguments of a cascade level: hold for 2^level s, then dead-letter (at-least-once) to the next level down. */
export function delayLevelArguments(names: BrokerNames, level: number): Record<string, unknown> {
  return {
    ...quorum,
    'x-message-ttl': 2 ** level * 1000,
    'x-dead-letter-exchange': level === 0 ? names.timersDueExchange : names.delayLevelExchange(level - 1),
    'x-dead-letter-strategy': 'at-least-once',
    // at-least-once dead-lettering is only honoured with reject-publish; with drop-head it silently degrades.
    'x-overflow': 'reject-publish',
  };
}

/** The deliveries work queue, for anyone who consumes or publishes it: durable and quorum, like the cascade. */
export async function declareDeliveriesQueue(channel: amqp.Channel, names: BrokerNames): Promise<void> {
  await channel.assertQueue(names.deliveriesQueue, { durable: true, arguments: { ...quorum } });
}

/** The subscription sender's work queue: durable and quorum, like the deliveries queue. */
export async function declareSubscriptionDeliveriesQueue(channel: amqp.Channel, names: BrokerNames): Promise<void> {
  await channel.assertQueue(names.subscriptionDeliveriesQueue, { durable: true, arguments: { ...quorum } });
}

/**
 * Declares (idempotently) and verifies the delay cascade, the timers-due queue and the deliveries queue.
 * Meant to run on every (re)connect. Throws TopologyError when the broker cannot provide them.
 *
 * Routing follows the NServiceBus / Kombu scheme: a timer's routing key spells its delay in binary, most
 * significant level first ("0.0.….1.0.1"). The exchange of level k sends a key with digit k set to the level-k
 * queue and passes any other key straight on to level k - 1; the level-k queue holds it for 2^k s and then
 * dead-letters it, with its routing key, to the exchange of level k - 1. Level 0 ends in the timers-due exchange.
 */
export async function declareDelayCascade(connection: AmqpConnection, names: BrokerNames): Promise<void> {
  assertBrokerVersion(connection);
  await assertStreamQueuesEnabled(connection, names);

  const channel = await connection.createChannel();
  let closedBy: Error | null = null;
  channel.on('error', (error: Error) => {
    closedBy = error;
  });
  const step = async <T>(what: string, action: () => Promise<T>): Promise<T> => {
    try {
      return await action();
    } catch (error) {
      const cause = closedBy ?? (error as Error);
      const conflicting = (cause as { code?: unknown }).code === 406;
      throw new TopologyError(
        `RabbitMQ refused the escalation topology: ${what}: ${describeBrokerError(cause)}` +
          (conflicting ? '. It exists with other arguments: delete it (or change AMQP_PREFIX) before AlertOps can start.' : ''),
      );
    }
  };

  try {
    await step(`exchange '${names.timersDueExchange}'`, () => channel.assertExchange(names.timersDueExchange, 'fanout', { durable: true }));
    await step(`queue '${names.timersDueQueue}'`, () => channel.assertQueue(names.timersDueQueue, { durable: true, arguments: { ...quorum } }));
    await step(`binding of '${names.timersDueQueue}'`, () => channel.bindQueue(names.timersDueQueue, names.timersDueExchange, ''));

    for (let level = 0; level < DELAY_LEVELS; level++) {
      const exchange = names.delayLevelExchange(level);
      const queue = names.delayLevelQueue(level);
      const digitsAbove = '*.'.repeat(DELAY_LEVELS - 1 - level);
      await step(`exchange '${exchange}'`, () => channel.assertExchange(exchange, 'topic', { durable: true }));
      await step(`queue '${queue}'`, () => channel.assertQueue(queue, { durable: true, arguments: delayLevelArguments(names, level) }));
      await step(`binding of '${queue}'`, () => channel.bindQueue(queue, exchange, `${digitsAbove}1.#`));
      const below = level === 0 ? names.timersDueExchange : names.delayLevelExchange(level - 1);
      await step(`binding of '${below}'`, () => channel.bindExchange(below, exchange, `${digitsAbove}0.#`));
    }

    const top = names.delayLevelExchange(DELAY_LEVELS - 1);
    await step(`exchange '${names.delayExchange}'`, () => channel.assertExchange(names.delayExchange, 'topic', { durable: true }));
    await step(`binding of '${top}'`, () => channel.bindExchange(top, names.delayExchange, '#'));

    await step(`queue '${names.deliveriesQueue}'`, () => declareDeliveriesQueue(channel, names));
    await step(`queue '${names.subscriptionDeliveriesQueue}'`, () => declareSubscriptionDeliveriesQueue(channel, names));
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/**
 * Messages ready in every queue of the engine (the cascade's levels, due timers, deliveries), named without the
 * prefix. One short-lived channel; a queue that is missing fails the reading rather than being reported as empty.
 */
export async function queueDepths(connection: AmqpConnection, names: BrokerNames, prefix: string): Promise<{ queue: string; messages: number }[]> {
  const queues = [names.timersDueQueue, names.deliveriesQueue, ...Array.from({ length: DELAY_LEVELS }, (_, level) => names.delayLevelQueue(level))];
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  try {
    const depths: { queue: string; messages: number }[] = [];
    for (const queue of queues) {
      const { messageCount } = await channel.checkQueue(queue);
      depths.push({ queue: queue.slice(prefix.length + 1), messages: messageCount });
    }
    return depths;
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/** Deletes everything declareDelayCascade declared (tests and teardown of a prefix). */
export async function deleteDelayCascade(connection: AmqpConnection, names: BrokerNames): Promise<void> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  try {
    for (let level = 0; level < DELAY_LEVELS; level++) {
      await channel.deleteQueue(names.delayLevelQueue(level));
      await channel.deleteExchange(names.delayLevelExchange(level));
    }
    await channel.deleteExchange(names.delayExchange);
    await channel.deleteQueue(names.timersDueQueue);
    await channel.deleteExchange(names.timersDueExchange);
    await channel.deleteQueue(names.deliveriesQueue);
    await channel.deleteQueue(names.subscriptionDeliveriesQueue);
    await channel.deleteQueue(streamProbeQueue(names));
  } finally {
    await channel.close().catch(() => undefined);
  }
}

function assertBrokerVersion(connection: AmqpConnection): void {
  const { product, version } = connection.connection.serverProperties;
  const [major = 0, minor = 0] = String(version ?? '').split('.').map((part) => Number.parseInt(part, 10));
  const [needMajor, needMinor] = MINIMUM_RABBITMQ_VERSION;
  const recentEnough = major > needMajor || (major === needMajor && minor >= needMinor);
  if (product !== 'RabbitMQ' || !recentEnough) {
    throw new TopologyError(
      `the escalation delay cascade needs RabbitMQ ${needMajor}.${needMinor} or newer (quorum queues with message TTL and ` +
        `at-least-once dead-lettering); the broker is ${String(product ?? 'unknown')} ${String(version ?? '')}`,
    );
  }
}

/**
 * RabbitMQ 3.10 silently falls back to at-most-once dead-lettering (a lost timer on any hiccup) when the
 * stream_queue feature flag is disabled, and no AMQP reply reveals the fallback. Declaring a stream fails
 * exactly when that flag is off, so an empty stream is the probe. It is kept, not deleted: processes of one
 * deployment start side by side, and one deleting the probe while another declares it leaves the broker's
 * stream coordinator unavailable for its 30 s timeout.
 */
async function assertStreamQueuesEnabled(connection: AmqpConnection, names: BrokerNames): Promise<void> {
  const channel = await connection.createChannel();
  let closedBy: Error | null = null;
  channel.on('error', (error: Error) => {
    closedBy = error;
  });
  try {
    await channel.assertQueue(streamProbeQueue(names), { durable: true, arguments: { 'x-queue-type': 'stream' } });
  } catch (error) {
    // Only the broker refusing the stream (a channel error) says the flag is off. A connection that went away
    // mid-probe (a broker still booting closes it with INTERNAL_ERROR) says nothing about the broker's features.
    if (!closedBy) throw error;
    throw new TopologyError(
      'RabbitMQ cannot dead-letter at-least-once, so delayed escalations could be lost: enable the stream_queue ' +
        `feature flag (rabbitmqctl enable_feature_flag stream_queue). Probe failed with: ${describeBrokerError(closedBy)}`,
    );
  } finally {
    await channel.close().catch(() => undefined);
  }
}

function streamProbeQueue(names: BrokerNames): string {
  return `${names.delayExchange}.capability-probe`;
}

function describeBrokerError(error: Error): string {
  return error.message.replace(/^Channel closed by server: /, '');
}

/** The routing key that spells `delaySeconds` in binary, most significant level first. */
export function delayRoutingKey(delaySeconds: number): string {
  const digits: string[] = [];
  for (let level = DELAY_LEVELS - 1; level >= 0; level--) digits.push(Math.floor(delaySeconds / 2 ** level) % 2 === 1 ? '1' : '0');
  return digits.join('.');
}

/** Whole seconds the cascade should hold a timer so it arrives just before `dueAt`; the consumer waits the rest. */
export function cascadeDelaySeconds(dueAt: Date, now: Date): number {
  const seconds = Math.floor((dueAt.getTime() - now.getTime() - ARRIVAL_MARGIN_MS) / 1000);
  return Math.min(MAX_DELAY_SECONDS, Math.max(0, seconds));
}

/**
 * Sends timers into the cascade, one message per whole second of delay: persistent, mandatory, and only resolved
 * once the broker confirmed every message. An unroutable timer (a missing exchange or queue) is an error, never a
 * silent drop.
 */
export async function publishTimers(channel: ConfirmChannel, names: BrokerNames, timers: readonly TimerMessage[], now = new Date()): Promise<void> {
  const bySlot = new Map<number, TimerMessage[]>();
  for (const timer of timers) {
    const delaySeconds = cascadeDelaySeconds(new Date(timer.dueAt), now);
    const slot = bySlot.get(delaySeconds) ?? [];
    slot.push(timer);
    bySlot.set(delaySeconds, slot);
  }
  const publishes: Promise<void>[] = [];
  for (const [delaySeconds, slot] of bySlot) {
    for (let start = 0; start < slot.length; start += MAX_TIMERS_PER_MESSAGE) {
      const body = { timers: slot.slice(start, start + MAX_TIMERS_PER_MESSAGE) };
      const [first] = body.timers;
      const attributes: Attributes =
        body.timers.length === 1 && first
          ? { [SpanAttribute.alertId]: first.alertId, ...timerAttributes(first) }
          : { 'alertops.timers': body.timers.length };
      publishes.push(publishConfirmed(channel, names.delayExchange, delayRoutingKey(delaySeconds), body, 'timers', { ...attributes, 'alertops.delay_seconds': delaySeconds }));
    }
  }
  await settleAll(publishes);
}

function timerAttributes(timer: TimerMessage): Attributes {
  switch (timer.kind) {
    case 'escalation':
      return { [SpanAttribute.step]: timer.step };
    case 'delivery':
      return { [SpanAttribute.deliveryId]: timer.deliveryId };
    case 'retrigger':
      return { [SpanAttribute.epoch]: timer.epoch };
    case 'subscription':
      return { [SpanAttribute.teamId]: timer.teamId, 'alertops.subscription.id': timer.subscriptionId };
  }
}

/** Waits for every publish, so none is left awaiting its confirm, then fails with the first failure. */
async function settleAll(publishes: Promise<void>[]): Promise<void> {
  const outcomes = await Promise.allSettled(publishes);
  const failed = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Hands a delivery to the notifier now, confirmed. */
export async function publishDeliveryWork(channel: ConfirmChannel, names: BrokerNames, work: DeliveryWork): Promise<void> {
  await publishConfirmed(channel, '', names.deliveriesQueue, work, 'delivery-work', {
    [SpanAttribute.alertId]: work.alertId,
    [SpanAttribute.deliveryId]: work.deliveryId,
    ...(work.teamId ? { [SpanAttribute.teamId]: work.teamId } : {}),
  });
}

/** Hands a subscription's deliveries of an alert to the subscription sender now, confirmed. */
export async function publishSubscriptionWork(channel: ConfirmChannel, names: BrokerNames, work: SubscriptionWork): Promise<void> {
  await publishConfirmed(channel, '', names.subscriptionDeliveriesQueue, work, 'subscription-work', {
    [SpanAttribute.alertId]: work.alertId,
    [SpanAttribute.teamId]: work.teamId,
    'alertops.subscription.id': work.subscriptionId,
  });
}

interface PublishTracking {
  /** messageId -> why the broker returned it; filled by basic.return, which RabbitMQ sends before the confirm. */
  returns: Map<string, string | null>;
  /** Why the broker closed the channel: amqplib only tells pending confirms "channel closed". */
  closedBy: Error | null;
}

const publishTracking = new WeakMap<ConfirmChannel, PublishTracking>();

function trackingOf(channel: ConfirmChannel): PublishTracking {
  let tracking = publishTracking.get(channel);
  if (!tracking) {
    const tracked: PublishTracking = { returns: new Map(), closedBy: null };
    channel.on('return', (message: amqp.Message) => {
      const id = message.properties.messageId as string | undefined;
      // basic.return carries the reply code and text in its fields; amqplib's types only know delivery fields.
      const reply = message.fields as amqp.MessageFields & { replyCode?: number; replyText?: string };
      if (id !== undefined && tracked.returns.has(id)) tracked.returns.set(id, `${reply.replyCode ?? ''} ${reply.replyText ?? 'returned'}`.trim());
    });
    channel.on('error', (error: Error) => {
      tracked.closedBy = error;
    });
    publishTracking.set(channel, tracked);
    tracking = tracked;
  }
  return tracking;
}

/** Every message leaves in a producer span whose context travels in its headers (dead-lettering keeps them). */
function publishConfirmed(channel: ConfirmChannel, exchange: string, routingKey: string, body: unknown, type: string, attributes: Attributes): Promise<void> {
  const destination = exchange || routingKey;
  return traced(
    `${destination} publish`,
    { 'messaging.system': 'rabbitmq', 'messaging.operation.type': 'send', 'messaging.destination.name': destination, ...attributes },
    () => publishWithConfirm(channel, exchange, routingKey, body, type),
    SpanKind.PRODUCER,
  );
}

async function publishWithConfirm(channel: ConfirmChannel, exchange: string, routingKey: string, body: unknown, type: string): Promise<void> {
  const messageId = randomUUID();
  const headers = traceHeaders();
  const tracking = trackingOf(channel);
  tracking.returns.set(messageId, null);
  let returned: string | null = null;
  try {
    await new Promise<void>((resolve, reject) => {
      channel.publish(
        exchange,
        routingKey,
        Buffer.from(JSON.stringify(body)),
        { persistent: true, mandatory: true, contentType: 'application/json', messageId, type, timestamp: Math.floor(Date.now() / 1000), headers },
        (error: unknown) => {
          if (!error) return resolve();
          const reason = tracking.closedBy ? describeBrokerError(tracking.closedBy) : String(error);
          reject(new PublishRefusedError(`the broker did not take a ${type} message: ${reason}`));
        },
      );
    });
  } finally {
    returned = tracking.returns.get(messageId) ?? null;
    tracking.returns.delete(messageId);
  }
  if (returned !== null) {
    throw new PublishRefusedError(`the broker could not route a ${type} message to '${exchange || routingKey}': ${returned}`);
  }
}

/**
 * A confirm channel for publishing timers and delivery work: opened on every (re)connect, and reopened on
 * demand when the broker closed just the channel (a channel-level error must not silence publishing until the
 * next reconnect).
 */
export class EscalationPublisher {
  private connection: AmqpConnection | null = null;
  private channel: Promise<ConfirmChannel> | null = null;
  private closed = false;

  constructor(
    readonly names: BrokerNames,
    private readonly logger: Logger,
  ) {}

  /** A BrokerConnection setup: this connection's confirm channel. */
  readonly attach = async (connection: AmqpConnection): Promise<void> => {
    if (this.closed) return;
    this.connection = connection;
    this.channel = null;
    await this.current();
  };

  private current(): Promise<ConfirmChannel> {
    if (this.closed) return Promise.reject(new Error('the escalation publisher is closed'));
    if (!this.channel) {
      const connection = this.connection;
      if (!connection) return Promise.reject(new Error('not connected to the message broker'));
      const opening = connection.createConfirmChannel().then((channel) => {
        channel.on('error', (error: Error) => this.logger.warn({ err: error }, 'publishing channel failed'));
        channel.on('close', () => {
          if (this.channel === opening) this.channel = null;
        });
        return channel;
      });
      opening.catch(() => {
        if (this.channel === opening) this.channel = null;
      });
      this.channel = opening;
    }
    return this.channel;
  }

  async publishTimers(timers: readonly TimerMessage[], now = new Date()): Promise<void> {
    if (timers.length > 0) await publishTimers(await this.current(), this.names, timers, now);
  }

  async publishDeliveryWork(work: DeliveryWork): Promise<void> {
    await publishDeliveryWork(await this.current(), this.names, work);
  }

  /**
   * Messages ready in the notifier's work queue. Checked on a channel of its own: a passive check of a queue no
   * notifier has declared yet closes its channel, which must not be the publishing one.
   */
  async deliveryWorkWaiting(): Promise<number> {
    if (!this.connection) throw new Error('not connected to the message broker');
    const channel = await this.connection.createChannel();
    channel.on('error', () => undefined);
    try {
      return (await channel.checkQueue(this.names.deliveriesQueue)).messageCount;
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  async publishSubscriptionWork(work: SubscriptionWork): Promise<void> {
    await publishSubscriptionWork(await this.current(), this.names, work);
  }

  async close(): Promise<void> {
    this.closed = true;
    const channel = this.channel;
    this.channel = null;
    this.connection = null;
    await channel?.then((open) => open.close()).catch(() => undefined);
  }
}
