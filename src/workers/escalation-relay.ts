import type { AlertEvent } from '../domain/alert/events.js';
import type { DeliveryWork, TimerMessage } from '../infra/broker-messages.js';
import { inTraceOf } from '../infra/tracing.js';
import type { ProjectedEvent } from '../projections/projection.js';
import type { Subscription } from '../projections/runner.js';

/** Where the relay sends what the log asks for; EscalationPublisher confirms every message with the broker. */
export interface RelayPublisher {
  publishTimers(timers: readonly TimerMessage[]): Promise<void>;
  publishDeliveryWork(work: DeliveryWork): Promise<void>;
}

export const ESCALATION_RELAY = 'escalation-relay';

const teamOf = (event: ProjectedEvent) => (event.metadata.teamId ? { teamId: event.metadata.teamId } : {});

/**
 * Turns escalation events into broker messages: a timer per scheduled step, per notification retry and per delayed
 * notification rule (the
 * timers of a batch share a message per due second), delivery work per requested notification. The runner moves
 * the checkpoint only after handleBatch returns, and handleBatch returns only once the broker confirmed every
 * message, so a crash or a broker outage replays from the checkpoint: messages may repeat (firing and attempts
 * are fenced), never vanish.
 */
export function escalationRelay(publisher: RelayPublisher): Subscription {
  return {
    name: ESCALATION_RELAY,
    // NotificationOutcomeUnknown needs no message: the start that records it starts the resend in the same command.
    handles: new Set<AlertEvent['type']>([
      'EscalationStepScheduled',
      'NotificationRequested',
      'NotificationFailed',
      'NotificationResendRequested',
      'AcknowledgementTimeoutScheduled',
      'AlertSnoozed',
    ]),
    async handleBatch(_tx, events) {
      // Messages are published in the trace of the event that asks for them; without tracing, one group.
      const byTrace = new Map<string | undefined, { timers: TimerMessage[]; work: DeliveryWork[] }>();
      for (const event of events as ProjectedEvent<AlertEvent>[]) {
        const { traceparent } = event.metadata;
        let group = byTrace.get(traceparent);
        if (!group) byTrace.set(traceparent, (group = { timers: [], work: [] }));
        const { timers, work } = group;
        if (event.type === 'EscalationStepScheduled') {
          const { alertId, epoch, loop, step, dueAt } = event.data;
          timers.push({ kind: 'escalation', alertId, epoch, loop, step, dueAt });
        } else if (event.type === 'NotificationFailed' && event.data.retryAt !== null) {
          const { alertId, deliveryId, retryAt } = event.data;
          timers.push({ kind: 'delivery', alertId, deliveryId, ...teamOf(event), dueAt: retryAt });
        } else if (event.type === 'NotificationRequested' && event.data.notBefore !== undefined) {
          // A notification rule with a delay: due like a retry, through the same timers.
          const { alertId, deliveryId, notBefore } = event.data;
          timers.push({ kind: 'delivery', alertId, deliveryId, ...teamOf(event), dueAt: notBefore });
        } else if (event.type === 'AcknowledgementTimeoutScheduled') {
          timers.push({ kind: 'retrigger', alertId: event.data.alertId, epoch: event.data.epoch, dueAt: event.data.dueAt });
        } else if (event.type === 'AlertSnoozed') {
          timers.push({ kind: 'retrigger', alertId: event.data.alertId, epoch: event.data.epoch, dueAt: event.data.until });
        } else if (event.type === 'NotificationRequested' || event.type === 'NotificationResendRequested') {
          work.push({ alertId: event.data.alertId, deliveryId: event.data.deliveryId, ...teamOf(event) });
        }
      }
      // Settle all before reporting, so a failure never leaves confirms outstanding on the next attempt's watch.
      const outcomes = await Promise.allSettled(
        [...byTrace].flatMap(([traceparent, { timers, work }]) =>
          inTraceOf(traceparent, () => [publisher.publishTimers(timers), ...work.map((item) => publisher.publishDeliveryWork(item))]),
        ),
      );
      const failed = outcomes.find((outcome) => outcome.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}
