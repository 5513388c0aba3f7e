import type { AlertEvent } from '../domain/alert/events.js';
import type { ProjectedEvent } from '../projections/projection.js';
import type { Subscription } from '../projections/runner.js';
import type { DeliveryWork, TimerMessage } from './messages.js';

/** Where the relay sends what the log asks for; EscalationPublisher confirms every message with the broker. */
export interface RelayPublisher {
  publishTimer(message: TimerMessage): Promise<void>;
  publishDeliveryWork(work: DeliveryWork): Promise<void>;
}

export const ESCALATION_RELAY = 'escalation-relay';

/**
 * Turns escalation events into broker messages: a timer per scheduled step and per notification retry,
 * delivery work per requested (or unresolved) notification. The runner moves the checkpoint only after
 * handleBatch returns, and handleBatch returns only once the broker confirmed every message, so a crash or a
 * broker outage replays from the checkpoint: messages may repeat (firing and attempts are fenced), never vanish.
 */
export function escalationRelay(publisher: RelayPublisher): Subscription {
  return {
    name: ESCALATION_RELAY,
    // NotificationOutcomeUnknown needs no message: the start that records it starts the resend in the same command.
    handles: new Set<AlertEvent['type']>(['EscalationStepScheduled', 'NotificationRequested', 'NotificationFailed']),
    async handleBatch(_client, events) {
      const publishes: Promise<void>[] = [];
      for (const event of events as ProjectedEvent<AlertEvent>[]) {
        const publish = messageFor(event, publisher);
        if (publish) publishes.push(publish);
      }
      // Settle all before reporting, so a failure never leaves confirms outstanding on the next attempt's watch.
      const outcomes = await Promise.allSettled(publishes);
      const failed = outcomes.find((outcome) => outcome.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}

function messageFor(event: ProjectedEvent<AlertEvent>, publisher: RelayPublisher): Promise<void> | null {
  switch (event.type) {
    case 'EscalationStepScheduled': {
      const { alertId, epoch, loop, step, dueAt } = event.data;
      return publisher.publishTimer({ kind: 'escalation', alertId, epoch, loop, step, dueAt });
    }
    case 'NotificationFailed': {
      const { alertId, deliveryId, retryAt } = event.data;
      return retryAt === null ? null : publisher.publishTimer({ kind: 'delivery', alertId, deliveryId, dueAt: retryAt });
    }
    case 'NotificationRequested':
      return publisher.publishDeliveryWork({ alertId: event.data.alertId, deliveryId: event.data.deliveryId });
    default:
      return null;
  }
}
