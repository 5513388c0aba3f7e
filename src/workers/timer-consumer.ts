import { setMaxListeners } from 'node:events';
import type amqp from 'amqplib';
import type { Histogram } from 'prom-client';
import type { BrokerConnection, AmqpConnection } from '../infra/amqp.js';
import { ARRIVAL_MARGIN_MS, type BrokerNames } from '../infra/delay-cascade.js';
import type { Logger } from '../infra/logger.js';
import { type DeliveryWork, TimerMessage } from './messages.js';

/** The engine's fenced firing path (fireEscalationStep in src/commands/alerts.ts, bound to its dependencies). */
export type FireEscalationStep = (input: {
  alertId: string;
  epoch: number;
  loop: number;
  step: number;
  now: Date;
}) => Promise<{ fired: boolean; lagMs: number | null }>;

export interface TimerPublisher {
  publishTimer(message: TimerMessage, now?: Date): Promise<void>;
  publishDeliveryWork(work: DeliveryWork): Promise<void>;
}

export interface TimerConsumerOptions {
  broker: BrokerConnection;
  names: BrokerNames;
  publisher: TimerPublisher;
  fire: FireEscalationStep;
  logger: Logger;
  /** Observed (in seconds) whenever a timer actually fired a step. */
  escalationLag?: Histogram;
  clock?: () => Date;
  /** Timers held at once while they wait out their last sub-second remainder; must exceed timers due per second. */
  prefetch?: number;
  /** Pause before a timer whose action failed goes back to the queue. */
  retryDelayMs?: number;
}

export interface TimerConsumer {
  stop(): Promise<void>;
}

/**
 * A timer arriving this much before its due time did not come out of the cascade as planned (a delay beyond
 * the cascade's range, or a clock that moved): it goes round again instead of waiting here in memory.
 */
const REDELAY_BEYOND_MS = 1000 + ARRIVAL_MARGIN_MS + 3000;

/**
 * Consumes timers that left the delay cascade, waits out the sub-second remainder until `dueAt`, acts, and
 * acks only after acting: an escalation timer fires its step through the fenced engine, a delivery timer
 * hands the delivery back to the notifier. A failure returns the timer to the queue after a pause; a
 * malformed message is logged and dropped. Resumes by itself after every reconnect.
 */
export async function startTimerConsumer(options: TimerConsumerOptions): Promise<TimerConsumer> {
  const { broker, names, publisher, fire, logger } = options;
  const clock = options.clock ?? (() => new Date());
  const prefetch = options.prefetch ?? 500;
  const retryDelayMs = options.retryDelayMs ?? 1000;

  let stopped = false;
  let session: { channel: amqp.Channel; consumerTag: string; closed: AbortController } | null = null;
  let opening: Promise<void> = Promise.resolve();
  let resubscribing = false;
  const handling = new Set<Promise<void>>();
  const sessionAlive = () => session !== null && !session.closed.signal.aborted;

  // Serialised: a reconnect and a resubscription racing each other must not leave two consumers behind.
  function openSession(connection: AmqpConnection): Promise<void> {
    const opened = opening.then(() => (stopped || sessionAlive() ? undefined : subscribe(connection)));
    opening = opened.catch(() => undefined);
    return opened;
  }

  async function subscribe(connection: AmqpConnection): Promise<void> {
    const channel = await connection.createChannel();
    const closed = new AbortController();
    // Every timer waiting out its remainder listens here (up to `prefetch` at once): not a leak, just many waiters.
    setMaxListeners(prefetch + 10, closed.signal);
    channel.on('error', (error: Error) => logger.warn({ err: error }, 'timer consumer channel failed'));
    channel.on('close', () => closed.abort());
    await channel.prefetch(prefetch);
    const { consumerTag } = await channel.consume(
      names.timersDueQueue,
      (message) => {
        if (message === null) {
          logger.error({ queue: names.timersDueQueue }, 'the broker cancelled the timer consumer; resubscribing');
          void channel.close().catch(() => undefined);
          return;
        }
        const work = handle(channel, message, closed.signal).catch((error: unknown) =>
          logger.error({ err: error }, 'timer handling failed unexpectedly'),
        );
        handling.add(work);
        void work.finally(() => handling.delete(work));
      },
      { noAck: false },
    );
    session = { channel, consumerTag, closed };
    channel.on('close', () => {
      if (!stopped) resubscribe();
    });
  }

  /**
   * The channel closed under a live consumer (the broker cancelled it, or a channel-level error). After a lost
   * connection the reconnect opens a new session first; otherwise keep trying on the current connection.
   */
  function resubscribe(): void {
    if (resubscribing) return;
    resubscribing = true;
    void (async () => {
      for (let attempt = 1; ; attempt++) {
        await pause(Math.min(5000, 200 * 2 ** attempt));
        if (stopped || sessionAlive()) break;
        try {
          await openSession(broker.current());
          break;
        } catch (error) {
          logger.debug({ err: error, attempt }, 'timer consumer could not resubscribe yet');
        }
      }
      resubscribing = false;
    })();
  }

  async function handle(channel: amqp.Channel, message: amqp.ConsumeMessage, closed: AbortSignal): Promise<void> {
    const timer = parseTimer(message.content);
    if (!timer) {
      logger.error({ content: message.content.toString('utf8').slice(0, 500) }, 'malformed timer message dropped');
      settle(() => channel.ack(message));
      return;
    }
    try {
      const dueAt = Date.parse(timer.dueAt);
      if (dueAt - clock().getTime() > REDELAY_BEYOND_MS) {
        await publisher.publishTimer(timer, clock());
      } else {
        if (!(await waitUntil(dueAt, clock, closed))) return;
        await act(timer);
      }
      settle(() => channel.ack(message));
    } catch (error) {
      logger.warn({ err: error, timer }, 'timer action failed; returning it to the queue');
      if (await pause(retryDelayMs, closed)) settle(() => channel.nack(message, false, true));
    }
  }

  async function act(timer: TimerMessage): Promise<void> {
    if (timer.kind === 'delivery') {
      await publisher.publishDeliveryWork({ alertId: timer.alertId, deliveryId: timer.deliveryId });
      return;
    }
    const { alertId, epoch, loop, step } = timer;
    const result = await fire({ alertId, epoch, loop, step, now: clock() });
    if (result.fired && result.lagMs !== null) options.escalationLag?.observe(result.lagMs / 1000);
  }

  try {
    await broker.register('timer-consumer', openSession);
  } catch (error) {
    stopped = true;
    throw error;
  }

  return {
    async stop() {
      stopped = true;
      await opening;
      const current = session;
      session = null;
      if (!current) return;
      await current.channel.cancel(current.consumerTag).catch(() => undefined);
      // Timers still waiting are abandoned unacked (the broker requeues them); timers mid-action finish and ack.
      current.closed.abort();
      await Promise.allSettled([...handling]);
      await current.channel.close().catch(() => undefined);
    },
  };
}

function parseTimer(content: Buffer): TimerMessage | null {
  try {
    const parsed = TimerMessage.safeParse(JSON.parse(content.toString('utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

// An ack or nack on a channel that closed meanwhile is moot: the broker has already requeued the message.
function settle(action: () => void): void {
  try {
    action();
  } catch {
    // channel closed
  }
}

/** Waits until the clock reaches `dueAt`; false when the channel closed first. */
async function waitUntil(dueAt: number, clock: () => Date, closed: AbortSignal): Promise<boolean> {
  for (;;) {
    const remaining = dueAt - clock().getTime();
    if (remaining <= 0) return !closed.aborted;
    if (!(await pause(remaining, closed))) return false;
  }
}

/** Sleeps `ms`; false when `signal` aborted first. */
function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    function onAbort() {
      clearTimeout(timer);
      resolve(false);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
