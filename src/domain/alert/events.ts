import { z } from 'zod';
import type { EventDefinition, EventsOf } from '../../eventstore/catalog.js';
import { FlowNode } from '../flow/node.js';
import { Timestamp } from '../schemas.js';

export const Severity = z.enum(['critical', 'error', 'warning', 'info']);
export type Severity = z.infer<typeof Severity>;

/** A flow node copied into the alert when it was triggered: later flow edits never reach a running alert. */
export const PinnedStep = FlowNode;
export type PinnedStep = z.infer<typeof PinnedStep>;

/** Where an alert came from and who acted on it. */
export const AlertActor = z.string().regex(/^(user|integration|system|link|token):.+/);

export const AlertTriggered = z.object({
  alertId: z.uuid(),
  teamId: z.uuid(),
  flowId: z.uuid(),
  flowVersion: z.int().min(1),
  summary: z.string(),
  details: z.unknown().nullable(),
  severity: Severity,
  dedupKey: z.string().nullable(),
  source: z.string().nullable(),
  steps: z.array(PinnedStep).min(1),
  repeat: z.int().min(0),
  /** The flow's acknowledgement timeout, pinned like its steps; absent when the flow has none. */
  ackTimeoutMinutes: z.int().min(1).optional(),
  triggeredAt: Timestamp,
});

export const AlertDeduplicated = z.object({
  alertId: z.uuid(),
  dedupCount: z.int().min(1),
  summary: z.string(),
  severity: Severity,
  at: Timestamp,
});

/** The step is due at `dueAt`; a timer for (epoch, loop, step) will wake the engine. */
export const EscalationStepScheduled = z.object({
  alertId: z.uuid(),
  epoch: z.int().min(0),
  loop: z.int().min(0),
  step: z.int().min(0),
  dueAt: Timestamp,
});

export const EscalationStepFired = z.object({
  alertId: z.uuid(),
  epoch: z.int().min(0),
  loop: z.int().min(0),
  step: z.int().min(0),
  nodeId: z.uuid(),
  dueAt: Timestamp,
  firedAt: Timestamp,
  lagMs: z.number(),
  /** A schedule step: who was on call when it fired (members of the team only), and why nobody was paged if so. */
  onCall: z.object({ scheduleId: z.uuid(), userIds: z.array(z.uuid()), reason: z.string().nullable() }).optional(),
});

export const NotificationRequested = z.object({
  alertId: z.uuid(),
  deliveryId: z.uuid(),
  loop: z.int().min(0),
  step: z.int().min(0),
  nodeId: z.uuid(),
  target: FlowNode.shape.target,
  retry: FlowNode.shape.retry,
  requestedAt: Timestamp,
  /** A notification rule's delivery: not sent before this instant (the step's fire time plus the rule's delay). */
  notBefore: Timestamp.optional(),
  /** A notification rule's delivery: whose rule, and the contact method it pages. */
  recipient: z.object({ userId: z.uuid(), contactMethodId: z.uuid() }).optional(),
  /** The body a webhook target receives: ours (json, the default) or an incoming-webhook message (slack). */
  format: z.enum(['json', 'slack']).optional(),
});

/**
 * Recorded before the send (persist, then deliver): an attempt without an outcome was cut off mid-flight.
 * `sender` names the process sending it: once that process is gone, the attempt is resolved at once; a sender
 * that lives on but never records an outcome loses the attempt when its lease ends.
 */
export const NotificationAttemptStarted = z.object({
  alertId: z.uuid(),
  deliveryId: z.uuid(),
  attempt: z.int().min(1),
  startedAt: Timestamp,
  sender: z.string().nullable(),
  leaseEndsAt: Timestamp,
});

/** Version 1 named no sender and left the lease (then 30 s) implicit. */
const attemptStartedV1ToV2 = (data: unknown) => {
  const v1 = data as { startedAt: string };
  return { ...v1, sender: null, leaseEndsAt: new Date(Date.parse(v1.startedAt) + 30_000).toISOString() };
};

export const NotificationDelivered = z.object({
  alertId: z.uuid(),
  deliveryId: z.uuid(),
  attempt: z.int().min(1),
  deliveredAt: Timestamp,
  detail: z.string().nullable(),
});

/**
 * Version 1 errors could quote the target: its response body after the status, or where a redirect pointed. Read
 * today they keep only the status, in the words used now; nothing the target sent is passed on.
 */
export function legacyNotificationError(error: string): string {
  const answered = /^HTTP (\d{3})(:|$)/.exec(error);
  if (answered) return answered[1]!.startsWith('3') ? `redirect refused (HTTP ${answered[1]})` : `HTTP ${answered[1]}`;
  return error;
}

function withoutTargetText(data: unknown): unknown {
  if (!data || typeof data !== 'object' || typeof (data as { error?: unknown }).error !== 'string') return data;
  return { ...data, error: legacyNotificationError((data as { error: string }).error) };
}

/** A failed attempt; `retryAt` null means the attempts are used up and the notification is abandoned. */
export const NotificationFailed = z.object({
  alertId: z.uuid(),
  deliveryId: z.uuid(),
  attempt: z.int().min(1),
  error: z.string(),
  failedAt: Timestamp,
  retryAt: Timestamp.nullable(),
});

/** A started attempt whose outcome was never recorded (crash mid-send); resolved by the channel's policy. */
export const NotificationOutcomeUnknown = z.object({
  alertId: z.uuid(),
  deliveryId: z.uuid(),
  attempt: z.int().min(1),
  policy: z.enum(['resend']),
  at: Timestamp,
});

/** The alert was acknowledged or resolved before this notification was sent. */
export const NotificationCancelled = z.object({
  alertId: z.uuid(),
  deliveryId: z.uuid(),
  reason: z.enum(['acknowledged', 'resolved']),
  at: Timestamp,
});

export const EscalationExhausted = z.object({
  alertId: z.uuid(),
  loops: z.int().min(1),
  at: Timestamp,
});

export const AlertAcknowledged = z.object({ alertId: z.uuid(), epoch: z.int(), by: AlertActor, at: Timestamp });
export const AlertResolved = z.object({ alertId: z.uuid(), epoch: z.int(), by: AlertActor, at: Timestamp });
export const AlertEscalatedManually = z.object({ alertId: z.uuid(), epoch: z.int(), by: AlertActor, at: Timestamp });

/** Notes are written by people; their size and number per alert are capped so the stream stays bounded. */
export const MAX_NOTE_LENGTH = 10_000;
export const MAX_NOTES_PER_ALERT = 1000;

export const AlertNoteAdded = z.object({
  alertId: z.uuid(),
  noteId: z.uuid(),
  text: z.string().min(1).max(MAX_NOTE_LENGTH),
  by: AlertActor,
  at: Timestamp,
});

/** Acknowledged until `until`, then triggered again from the first step; a timer for `epoch` ends the snooze. */
export const AlertSnoozed = z.object({ alertId: z.uuid(), epoch: z.int(), by: AlertActor, at: Timestamp, until: Timestamp });

/** The acknowledgement lapses at `dueAt` unless the alert is acknowledged again or resolved (a timer for `epoch`). */
export const AcknowledgementTimeoutScheduled = z.object({ alertId: z.uuid(), epoch: z.int(), dueAt: Timestamp });

/** Nobody resolved the alert in time after acknowledging it: it is triggered again and escalates from the first step. */
export const AcknowledgementTimedOut = z.object({ alertId: z.uuid(), epoch: z.int(), at: Timestamp });

/** The snooze is over: the alert is triggered again and escalates from the first step. */
export const SnoozeEnded = z.object({ alertId: z.uuid(), epoch: z.int(), at: Timestamp });
/** Triggered inside a maintenance window: nobody is paged before `until`, when its escalation starts. */
export const AlertSuppressed = z.object({ alertId: z.uuid(), windowId: z.uuid(), until: Timestamp });

/** The alert's escalation starts: its window ended (early, when `epoch` is new: the window was deleted). */
export const SuppressionEnded = z.object({ alertId: z.uuid(), epoch: z.int().min(0), at: Timestamp });

/** Someone asked for a page that reached nobody to be sent again, under the same delivery id. */
export const NotificationResendRequested = z.object({ alertId: z.uuid(), deliveryId: z.uuid(), by: AlertActor, at: Timestamp });

export const alertEventDefinitions = {
  AlertTriggered: { schema: AlertTriggered, version: 1 },
  AlertDeduplicated: { schema: AlertDeduplicated, version: 1 },
  EscalationStepScheduled: { schema: EscalationStepScheduled, version: 1 },
  EscalationStepFired: { schema: EscalationStepFired, version: 1 },
  NotificationRequested: { schema: NotificationRequested, version: 1 },
  NotificationAttemptStarted: { schema: NotificationAttemptStarted, version: 2, upcasters: { 1: attemptStartedV1ToV2 } },
  NotificationDelivered: { schema: NotificationDelivered, version: 1 },
  NotificationFailed: { schema: NotificationFailed, version: 2, upcasters: { 1: withoutTargetText } },
  NotificationOutcomeUnknown: { schema: NotificationOutcomeUnknown, version: 1 },
  NotificationCancelled: { schema: NotificationCancelled, version: 1 },
  EscalationExhausted: { schema: EscalationExhausted, version: 1 },
  AlertAcknowledged: { schema: AlertAcknowledged, version: 1 },
  AlertResolved: { schema: AlertResolved, version: 1 },
  AlertEscalatedManually: { schema: AlertEscalatedManually, version: 1 },
  AlertNoteAdded: { schema: AlertNoteAdded, version: 1 },
  AlertSnoozed: { schema: AlertSnoozed, version: 1 },
  AcknowledgementTimeoutScheduled: { schema: AcknowledgementTimeoutScheduled, version: 1 },
  AcknowledgementTimedOut: { schema: AcknowledgementTimedOut, version: 1 },
  SnoozeEnded: { schema: SnoozeEnded, version: 1 },
  AlertSuppressed: { schema: AlertSuppressed, version: 1 },
  SuppressionEnded: { schema: SuppressionEnded, version: 1 },
  NotificationResendRequested: { schema: NotificationResendRequested, version: 1 },
} satisfies Record<string, EventDefinition>;

export type AlertEvent = EventsOf<typeof alertEventDefinitions>;
export type AlertEventOf<T extends AlertEvent['type']> = Extract<AlertEvent, { type: T }>;
