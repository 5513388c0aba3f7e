import { setMaxListeners } from 'node:events';
import type amqp from 'amqplib';
import type { AmqpConnection, BrokerConnection } from './amqp.js';
import type { Logger } from './logger.js';
import { consumeTraced } from './tracing.js';

/**
 * A message taken from a queue, and how its handler settles it. Settling on a channel that already closed is
 * harmless: the broker requeued it.
 */
export interface ReceivedMessage {
  content: Buffer;
  ack(): void;
  /** Back to the queue (`requeue`) or dropped. */
  nack(requeue: boolean): void;
  /** Aborted when the channel closes or the consumer stops: stop waiting, leave the message unsettled. */
  closed: AbortSignal;
}

export interface QueueConsumerOptions {
  /** Names the consumer in logs and in the broker connection's setup list. */
  name: string;
  broker: BrokerConnection;
  queue: string;
  /** Messages held at once (unacked). */
  prefetch: number;
  logger: Logger;
  /** Declares what the consumer relies on before it consumes; re-run on every new channel. */
  prepare?: (channel: amqp.Channel) => Promise<void>;
  handle: (message: ReceivedMessage) => Promise<void>;
}

export interface QueueConsumer {
  /** Stops taking messages, lets handlers finish (waits in them are aborted), then closes the channel. */
  stop(): Promise<void>;
}

/**
 * A consumer that stays subscribed: it re-attaches after every reconnect (through BrokerConnection) and
 * after its channel closes under it (a consumer cancelled by the broker, a channel-level error), with
 * backoff. Acking is the handler's: a message is acked only once it has been acted upon.
 */
export async function startQueueConsumer(options: QueueConsumerOptions): Promise<QueueConsumer> {
  const { broker, logger, queue, prefetch } = options;
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
    // Every held message may wait on this signal (up to `prefetch` at once): many waiters, not a leak.
    setMaxListeners(prefetch + 10, closed.signal);
    channel.on('error', (error: Error) => logger.warn({ err: error, consumer: options.name }, 'consumer channel failed'));
    channel.on('close', () => closed.abort());
    await options.prepare?.(channel);
    await channel.prefetch(prefetch);
    const settle = (action: () => void) => {
      try {
        action();
      } catch (error) {
        logger.warn({ err: error, consumer: options.name }, 'could not settle a message; the broker will redeliver it');
      }
    };
    const { consumerTag } = await channel.consume(
      queue,
      (message) => {
        if (message === null) {
          logger.error({ queue, consumer: options.name }, 'the broker cancelled the consumer; resubscribing');
          void channel.close().catch(() => undefined);
          return;
        }
        const received: ReceivedMessage = {
          content: message.content,
          ack: () => settle(() => channel.ack(message)),
          nack: (requeue) => settle(() => channel.nack(message, false, requeue)),
          closed: closed.signal,
        };
        // Each message is handled in the trace its publisher put in its headers.
        const work = consumeTraced(
          `${queue} process`,
          message.properties.headers,
          { 'messaging.system': 'rabbitmq', 'messaging.operation.type': 'process', 'messaging.destination.name': queue },
          () => options.handle(received),
        ).catch((error: unknown) => logger.error({ err: error, consumer: options.name }, 'message handling failed unexpectedly'));
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

  /** After a lost connection the reconnect opens a new session first; otherwise keep trying on the current one. */
  function resubscribe(): void {
    if (resubscribing) return;
    resubscribing = true;
    void (async () => {
      for (let attempt = 1; ; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 200 * 2 ** attempt)));
        if (stopped || sessionAlive()) break;
        try {
          await openSession(broker.current());
          break;
        } catch (error) {
          logger.debug({ err: error, attempt, consumer: options.name }, 'consumer could not resubscribe yet');
        }
      }
      resubscribing = false;
    })();
  }

  try {
    await broker.register(options.name, openSession);
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
      current.closed.abort();
      await Promise.allSettled([...handling]);
      await current.channel.close().catch(() => undefined);
    },
  };
}
