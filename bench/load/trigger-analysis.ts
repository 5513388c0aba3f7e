import type { TriggerRecord } from './protocol.js';
import { type Distribution, distribution } from './stats.js';

export interface TriggerSummary {
  offered: number;
  /** Triggers that reached a connection (the rest were still queued in the client when abandoned). */
  sent: number;
  accepted: number;
  failed: number;
  /** Failures by kind (HTTP status, connection error, timeout, abandoned at the deadline). */
  failures: Map<string, number>;
  /** Accepted answers that the service sent before its read models had caught up (X-AlertOps-Consistency: pending). */
  consistencyPending: number;
  /** Accepted triggers per second, from the first scheduled send to the last accepted answer. */
  acceptedPerSecond: number | null;
  /** Answer time of accepted triggers, counted from the scheduled send time. */
  latencyMs: Distribution;
  /** How late a trigger left the client after its scheduled time (queued behind busy connections, or a busy client). */
  sendDelayMs: Distribution;
  firstScheduledAt: number | null;
  lastAcceptedAt: number | null;
}

export function summarizeTriggers(triggers: TriggerRecord[]): TriggerSummary {
  const accepted = triggers.filter((trigger) => trigger.error === null && trigger.alertId !== null);
  const failures = new Map<string, number>();
  for (const trigger of triggers) {
    if (trigger.error !== null) failures.set(trigger.error, (failures.get(trigger.error) ?? 0) + 1);
  }
  const firstScheduledAt = triggers.reduce<number | null>((first, trigger) => Math.min(first ?? Infinity, trigger.scheduledAt), null);
  const lastAcceptedAt = accepted.reduce<number | null>((last, trigger) => Math.max(last ?? -Infinity, trigger.answeredAt!), null);
  const elapsedSeconds = firstScheduledAt !== null && lastAcceptedAt !== null ? (lastAcceptedAt - firstScheduledAt) / 1000 : 0;
  return {
    offered: triggers.length,
    sent: triggers.filter((trigger) => trigger.sentAt !== null).length,
    accepted: accepted.length,
    failed: triggers.length - accepted.length,
    failures,
    consistencyPending: accepted.filter((trigger) => trigger.consistencyPending).length,
    acceptedPerSecond: elapsedSeconds > 0 ? accepted.length / elapsedSeconds : null,
    latencyMs: distribution(accepted.map((trigger) => trigger.answeredAt! - trigger.scheduledAt)),
    sendDelayMs: distribution(triggers.filter((trigger) => trigger.sentAt !== null).map((trigger) => trigger.sentAt! - trigger.scheduledAt)),
    firstScheduledAt,
    lastAcceptedAt,
  };
}

export function describeFailures(failures: Map<string, number>): string {
  if (failures.size === 0) return 'none';
  return [...failures]
    .sort((a, b) => b[1] - a[1])
    .map(([kind, count]) => `${kind} × ${count.toLocaleString('en-US')}`)
    .join(', ');
}
