import type { Counter, Histogram } from 'prom-client';
import type { BrokerConnection } from '../infra/amqp.js';
import { ARRIVAL_MARGIN_MS, type BrokerNames } from '../infra/delay-cascade.js';
import type { Logger } from '../infra/logger.js';
import { stepLabel } from '../infra/metrics.js';
import { pause } from '../infra/pause.js';
import { SpanAttribute, traced } from '../infra/tracing.js';
import { type ReceivedMessage, startQueueConsumer } from '../infra/queue-consumer.js';
import { type DeliveryWork, parseMessage, type SubscriptionWork, TimerBatch, type TimerMessage } from '../infra/broker-messages.js';

/** The engine's fenced firing path (fireEscalationStep in src/commands/alerts.ts, bound to its dependencies). */
export type FireEscalationStep = (input: {
  alertId: string;
  epoch: number;
  loop: number;
  step: number;
  now: Date;
}) => Promise<{ fired: boolean; lagMs: number | null }>;

/** The fenced way an acknowledged alert is triggered again (retriggerAlert in src/commands/alerts.ts, bound). */
export type RetriggerAlert = (input: { alertId: string; epoch: number; now: Date }) => Promise<{ retriggered: boolean }>;

export interface TimerPublisher {
  publishTimers(timers: readonly TimerMessage[], now?: Date): Promise<void>;
  publishDeliveryWork(work: DeliveryWork): Promise<void>;
  publishSubscriptionWork(work: SubscriptionWork): Promise<void>;
}

export interface TimerConsumerOptions {
  broker: BrokerConnection;
  names: BrokerNames;
  publisher: TimerPublisher;
  fire: FireEscalationStep;
  /** Wired by the escalation workers; a consumer without it drops (logs) retrigger timers, which the sweeper then covers. */
  retrigger?: RetriggerAlert;
  logger: Logger;
  /** Observed (in seconds, by step) whenever a timer actually fired a step. */
  escalationLag?: Histogram<'step'>;
  /** Counted for every escalation timer acted on: `fired` or `no-op`. */
  escalationTimers?: Counter<'outcome'>;
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
  const retryDelayMs = options.retryDelayMs ?? 1000;

  async function handle(message: ReceivedMessage): Promise<void> {
    const batch = parseMessage(TimerBatch, message.content);
    if (!batch) {
      logger.error({ content: message.content.toString('utf8').slice(0, 500) }, 'malformed timer message dropped');
      message.ack();
      return;
    }
    const tooEarly = batch.timers.filter((timer) => Date.parse(timer.dueAt) - clock().getTime() > REDELAY_BEYOND_MS);
    const onTime = batch.timers.filter((timer) => !tooEarly.includes(timer));
    // Each timer waits out its own remainder; timers still waiting when the channel closes stay unacked with their
    // message, and the broker requeues it (the ones already acted on are fenced no-ops the second time).
    const outcomes = await Promise.all(
      onTime.map(async (timer) => {
        if (!(await waitUntil(Date.parse(timer.dueAt), clock, message.closed))) return 'closed' as const;
        try {
          await act(timer);
          return 'done' as const;
        } catch (error) {
          logger.warn({ err: error, timer }, 'timer action failed; it goes round again');
          return 'failed' as const;
        }
      }),
    );
    if (outcomes.includes('closed')) return;
    const again = [...tooEarly, ...onTime.filter((_, index) => outcomes[index] === 'failed')];
    try {
      if (again.length > tooEarly.length && !(await pause(retryDelayMs, message.closed))) return;
      await publisher.publishTimers(again, clock());
      message.ack();
    } catch (error) {
      logger.warn({ err: error }, 'could not send timers round again; returning their message to the queue');
      if (await pause(retryDelayMs, message.closed)) message.nack(true);
    }
  }

  async function act(timer: TimerMessage): Promise<void> {
    if (timer.kind === 'delivery') {
      const { alertId, deliveryId, teamId } = timer;
      await publisher.publishDeliveryWork({ alertId, deliveryId, ...(teamId ? { teamId } : {}) });
      return;
    }
    if (timer.kind === 'retrigger') {
      if (options.retrigger) await options.retrigger({ alertId: timer.alertId, epoch: timer.epoch, now: clock() });
      else logger.warn({ timer }, 'retrigger timer dropped: this consumer cannot trigger alerts again');
      return;
    }
    if (timer.kind === 'subscription') {
      const { teamId, subscriptionId, alertId, after } = timer;
      await publisher.publishSubscriptionWork({ teamId, subscriptionId, alertId, ...(after ? { after } : {}) });
      return;
    }
    const { alertId, epoch, loop, step } = timer;
    const attributes = { [SpanAttribute.alertId]: alertId, [SpanAttribute.step]: step, [SpanAttribute.loop]: loop, [SpanAttribute.epoch]: epoch };
    const result = await traced('fire escalation step', attributes, async (span) => {
      const fired = await fire({ alertId, epoch, loop, step, now: clock() });
      span.setAttribute('alertops.fired', fired.fired);
      return fired;
    });
    if (result.fired && result.lagMs !== null) options.escalationLag?.observe({ step: stepLabel(step) }, result.lagMs / 1000);
    options.escalationTimers?.inc({ outcome: result.fired ? 'fired' : 'no-op' });
  }

  return startQueueConsumer({
    name: 'timer-consumer',
    broker,
    queue: names.timersDueQueue,
    prefetch: options.prefetch ?? 500,
    logger,
    handle,
  });
}

/** Waits until the clock reaches `dueAt`; false when the channel closed first. */
async function waitUntil(dueAt: number, clock: () => Date, closed: AbortSignal): Promise<boolean> {
  for (;;) {
    const remaining = dueAt - clock().getTime();
    if (remaining <= 0) return !closed.aborted;
    if (!(await pause(remaining, closed))) return false;
  }
}
