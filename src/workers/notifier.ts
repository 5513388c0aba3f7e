import type amqp from 'amqplib';
import {
  type NotificationAttemptPlan,
  recordNotificationOutcome,
  startNotificationAttempt,
} from '../commands/alerts.js';
import type { CommandDependencies } from '../commands/handle-command.js';
import type { NotificationOutcome } from '../domain/alert/commands.js';
import type { AmqpConnection, BrokerConnection } from '../infra/amqp.js';
import { type BrokerNames, declareDeliveriesQueue } from '../infra/delay-cascade.js';
import type { Logger } from '../infra/logger.js';
import type { Metrics } from '../infra/metrics.js';
import { type ChannelName, channelFor, type NotificationChannel } from './channels/channel.js';
import { DeliveryWork } from './messages.js';

/** The two commands around a send: persist the attempt, then record what became of it. */
export interface NotificationAttempts {
  start(input: { alertId: string; deliveryId: string; now: Date }): Promise<NotificationAttemptPlan | null>;
  record(input: { alertId: string; deliveryId: string; attempt: number; outcome: NotificationOutcome; now: Date }): Promise<void>;
}

export function eventSourcedAttempts(deps: CommandDependencies): NotificationAttempts {
  return {
    start: (input) => startNotificationAttempt(deps, input),
    record: (input) => recordNotificationOutcome(deps, input),
  };
}

export interface NotifierOptions {
  broker: BrokerConnection;
  names: BrokerNames;
  attempts: NotificationAttempts;
  channels: Record<ChannelName, NotificationChannel>;
  logger: Logger;
  metrics: Pick<Metrics, 'notificationsDelivered'>;
  clock?: () => Date;
  /** Deliveries sent concurrently by this process. */
  concurrency?: number;
  /** Wait before handing a message back after an infrastructure error; grows with consecutive errors. */
  infrastructureBackoffMs?: { initial: number; max: number };
}

export interface Notifier {
  stop(): Promise<void>;
}

/**
 * Consumes the deliveries work queue: start the attempt (recorded before anything leaves), send it through
 * the target's channel, record the outcome, and only then ack. When our own infrastructure fails (the event
 * store is down) the message goes back to the queue after a backoff; on redelivery the open attempt is
 * resolved by the decider's outcome-unknown policy, so nothing is lost and nothing is recorded twice.
 */
export async function startNotifier(options: NotifierOptions): Promise<Notifier> {
  const { attempts, channels, logger, metrics, names } = options;
  const clock = options.clock ?? (() => new Date());
  const backoff = options.infrastructureBackoffMs ?? { initial: 250, max: 10_000 };
  const log = logger.child({ worker: 'notifier' });

  let stopping = false;
  const stopSignal = new AbortController();
  let consumer: { channel: amqp.Channel; consumerTag: string } | null = null;
  const inFlight = new Set<Promise<void>>();
  // Deliveries this process is sending right now. A second message for one of them (a duplicate publish) must
  // not start another attempt: the decider would take the open attempt for one cut off by a crash and resend.
  const sending = new Set<string>();
  let consecutiveInfrastructureErrors = 0;

  async function deliver(work: DeliveryWork): Promise<void> {
    const plan = await attempts.start({ alertId: work.alertId, deliveryId: work.deliveryId, now: clock() });
    if (!plan) {
      log.debug({ ...work }, 'nothing to send for this delivery (done, cancelled or not due yet)');
      return;
    }
    const channelName = channelFor(plan.target);
    let outcome: NotificationOutcome;
    try {
      outcome = await channels[channelName].send(plan);
    } catch (error) {
      outcome = { delivered: false, error: `could not send: ${(error as Error).message}`, permanent: false };
    }
    metrics.notificationsDelivered.inc({
      channel: channelName,
      outcome: outcome.delivered ? 'delivered' : outcome.permanent ? 'failed_permanently' : 'failed',
    });
    const context = { ...work, attempt: plan.attempt, channel: channelName };
    if (outcome.delivered) log.info({ ...context, detail: outcome.detail }, 'notification delivered');
    else log.warn({ ...context, error: outcome.error, permanent: outcome.permanent }, 'notification attempt failed');
    await attempts.record({ alertId: work.alertId, deliveryId: work.deliveryId, attempt: plan.attempt, outcome, now: clock() });
  }

  async function handle(channel: amqp.Channel, message: amqp.ConsumeMessage): Promise<void> {
    const work = parseWork(message.content);
    if (!work) {
      log.error({ content: message.content.toString('utf8', 0, 500) }, 'dropping a malformed delivery work message');
      settle(channel, message, 'reject');
      return;
    }
    if (sending.has(work.deliveryId)) {
      log.debug({ ...work }, 'delivery already being sent by this process; dropping the duplicate');
      settle(channel, message, 'ack');
      return;
    }
    sending.add(work.deliveryId);
    try {
      await deliver(work);
      consecutiveInfrastructureErrors = 0;
      settle(channel, message, 'ack');
    } catch (error) {
      consecutiveInfrastructureErrors++;
      const waitMs = Math.min(backoff.max, backoff.initial * 2 ** Math.min(consecutiveInfrastructureErrors - 1, 16));
      log.error({ err: error, ...work, retryInMs: waitMs }, 'delivery interrupted by an infrastructure error; requeueing');
      await pause(waitMs, stopSignal.signal);
      settle(channel, message, 'requeue');
    } finally {
      sending.delete(work.deliveryId);
    }
  }

  function settle(channel: amqp.Channel, message: amqp.ConsumeMessage, how: 'ack' | 'reject' | 'requeue'): void {
    try {
      if (how === 'ack') channel.ack(message);
      else channel.nack(message, false, how === 'requeue');
    } catch (error) {
      // The channel closed under us (broker restart): the broker already requeued the message.
      log.warn({ err: error }, 'could not settle a delivery message; the broker will redeliver it');
    }
  }

  async function attach(connection: AmqpConnection): Promise<void> {
    if (stopping) return;
    const channel = await connection.createChannel();
    channel.on('error', (error: Error) => log.warn({ err: error }, 'notifier channel failed'));
    channel.on('close', () => {
      if (consumer?.channel === channel) consumer = null;
    });
    await declareDeliveriesQueue(channel, names);
    await channel.prefetch(options.concurrency ?? 16);
    const { consumerTag } = await channel.consume(names.deliveriesQueue, (message) => {
      if (!message) {
        log.error({ queue: names.deliveriesQueue }, 'the broker cancelled the notifier consumer');
        return;
      }
      const handling = handle(channel, message).catch((error: unknown) => log.error({ err: error }, 'delivery handler failed'));
      inFlight.add(handling);
      void handling.finally(() => inFlight.delete(handling));
    });
    consumer = { channel, consumerTag };
  }

  await options.broker.register('notifier', attach);

  return {
    async stop() {
      stopping = true;
      const current = consumer;
      consumer = null;
      await current?.channel.cancel(current.consumerTag).catch(() => undefined);
      stopSignal.abort();
      await Promise.allSettled([...inFlight]);
      await current?.channel.close().catch(() => undefined);
    },
  };
}

function parseWork(content: Buffer): DeliveryWork | null {
  let json: unknown;
  try {
    json = JSON.parse(content.toString('utf8'));
  } catch {
    return null;
  }
  const parsed = DeliveryWork.safeParse(json);
  return parsed.success ? parsed.data : null;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
