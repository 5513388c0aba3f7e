import { z } from 'zod';

const Timestamp = z.iso.datetime({ offset: true });

/** Keeps one message well below the broker's frame and memory comfort (a timer is about 200 bytes). */
export const MAX_TIMERS_PER_MESSAGE = 2000;

/** A wake-up for the escalation engine: fire (epoch, loop, step) of an alert at `dueAt`. */
export const EscalationTimer = z.object({
  kind: z.literal('escalation'),
  alertId: z.uuid(),
  epoch: z.int().min(0),
  loop: z.int().min(0),
  step: z.int().min(0),
  dueAt: Timestamp,
});

/** A wake-up for a notification retry: hand the delivery back to the notifier at `dueAt`. */
export const DeliveryTimer = z.object({
  kind: z.literal('delivery'),
  alertId: z.uuid(),
  deliveryId: z.uuid(),
  teamId: z.uuid().optional(),
  dueAt: Timestamp,
});

/** A wake-up for an acknowledged alert: trigger it again at `dueAt` (acknowledgement timeout, end of snooze) if `epoch` still holds. */
export const RetriggerTimer = z.object({
  kind: z.literal('retrigger'),
  alertId: z.uuid(),
  epoch: z.int().min(0),
  dueAt: Timestamp,
});


/** A log position as it travels in a message. */
const MessagePosition = z.object({ transactionId: z.string().regex(/^\d+$/), globalPosition: z.string().regex(/^\d+$/) });

/** A wake-up for a subscription's deliveries of one alert (a retry's time, or a busy line's): hand them back to the sender at `dueAt`. */
export const SubscriptionTimer = z.object({
  kind: z.literal('subscription'),
  teamId: z.uuid(),
  subscriptionId: z.uuid(),
  alertId: z.uuid(),
  after: MessagePosition.optional(),
  dueAt: Timestamp,
});

export const TimerMessage = z.discriminatedUnion('kind', [EscalationTimer, DeliveryTimer, RetriggerTimer, SubscriptionTimer]);
export type TimerMessage = z.infer<typeof TimerMessage>;

/**
 * What travels through the delay cascade: every timer due within the same second of one publish, so a storm costs
 * the broker one message per due second rather than one per alert. A lone timer is a batch of one.
 */
export const TimerBatch = z.union([
  z.object({ timers: z.array(TimerMessage).min(1).max(MAX_TIMERS_PER_MESSAGE) }),
  TimerMessage.transform((timer) => ({ timers: [timer] })),
]);
export type TimerBatch = z.output<typeof TimerBatch>;

/** Work for the notifier: try to deliver this notification now. */
export const DeliveryWork = z.object({
  alertId: z.uuid(),
  deliveryId: z.uuid(),
  /** Whose line the work waits in; absent in work the sweeper hands back. */
  teamId: z.uuid().optional(),
});
export type DeliveryWork = z.infer<typeof DeliveryWork>;

/**
 * Work for the subscription sender: send what is due of this subscription's deliveries for this alert, in order.
 * `after` is the log position the work was published at: rows the reactor writes with that position may not have
 * committed yet when the work arrives.
 */
export const SubscriptionWork = z.object({
  teamId: z.uuid(),
  subscriptionId: z.uuid(),
  alertId: z.uuid(),
  after: MessagePosition.optional(),
});
export type SubscriptionWork = z.infer<typeof SubscriptionWork>;

/** Broker names, all under the configured prefix so processes (and test runs) can share a broker. */
export function brokerNames(prefix: string) {
  return {
    /** Exchange that receives delayed messages; the cascade's levels hang off it. */
    delayExchange: `${prefix}.delay`,
    delayLevelExchange: (level: number) => `${prefix}.delay.l${level}`,
    delayLevelQueue: (level: number) => `${prefix}.delay.q${level}`,
    /** Where timers land when their delay has passed. */
    timersDueExchange: `${prefix}.timers.due`,
    timersDueQueue: `${prefix}.timers.due`,
    /** The notifier's work queue. */
    deliveriesQueue: `${prefix}.deliveries`,
    /** The subscription sender's work queue. */
    subscriptionDeliveriesQueue: `${prefix}.subscription-deliveries`,
  };
}

/** A broker message body parsed against its schema; null for anything else (not JSON, or not that shape). */
export function parseMessage<T>(schema: z.ZodType<T>, content: Buffer): T | null {
  try {
    const parsed = schema.safeParse(JSON.parse(content.toString('utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
