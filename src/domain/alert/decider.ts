import { conflict, type Decider, DomainError, invalid, notFound } from '../decider.js';
import { uuidV5 } from '../deterministic-id.js';
import type { NodeTarget, RetryPolicy } from '../flow/node.js';
import type { AlertCommand, PagingRule } from './commands.js';
import { type AlertEvent, MAX_NOTE_LENGTH, MAX_NOTES_PER_ALERT, type PinnedStep, type Severity } from './events.js';

export type AlertStatus = 'triggered' | 'acknowledged' | 'resolved';

export interface PendingStep {
  loop: number;
  step: number;
  dueAt: string;
}

export interface NotificationState {
  deliveryId: string;
  loop: number;
  step: number;
  nodeId: string;
  target: NodeTarget;
  /** The body a webhook target receives. */
  format: 'json' | 'slack';
  retry: RetryPolicy;
  status: 'pending' | 'in_flight' | 'retry_scheduled' | 'delivered' | 'abandoned' | 'cancelled';
  attempts: number;
  failedAttempts: number;
  /** An attempt that was started and has no outcome yet, who is sending it and until when it is theirs. */
  openAttempt: number | null;
  openAttemptSender: string | null;
  openAttemptLeaseEndsAt: string | null;
  /** When the next attempt may start: a retry's time, or a delayed rule's due time before its first attempt. */
  nextAttemptAt: string | null;
}

export type AlertState =
  | { status: 'none' }
  | {
      status: AlertStatus;
      alertId: string;
      teamId: string;
      flowId: string;
      flowVersion: number;
      summary: string;
      details: unknown;
      severity: Severity;
      dedupKey: string | null;
      steps: PinnedStep[];
      repeat: number;
      dedupCount: number;
      /** Bumped by anything that supersedes scheduled timers: a timer of another epoch is stale. */
      epoch: number;
      pending: PendingStep | null;
      exhausted: boolean;
      notifications: Record<string, NotificationState>;
      ackTimeoutMinutes: number | null;
      /** While acknowledged: when and why the alert is triggered again (a timer of the current epoch). */
      reTrigger: { reason: 'ack_timeout' | 'snooze'; dueAt: string } | null;
      noteCount: number;
      /** The maintenance window holding the escalation back until it ends; null once it has started. */
      suppression: { windowId: string; until: string } | null;
    };

export type OpenAlertState = Exclude<AlertState, { status: 'none' }>;

/** Notifications that arrive a little early (clock skew between processes) still count as due. */
const EARLY_TOLERANCE_MS = 50;
const MAX_BACKOFF_SECONDS = 3600;
/**
 * How long a started attempt belongs to a sender that is still alive. Within the lease a second start (a
 * duplicate work message, another notifier process) must not resend; after it, the attempt is presumed lost and
 * resolved by the channel policy. A sender known to be gone loses its attempts at once. Longer than any
 * channel's send timeout.
 */
export const ATTEMPT_LEASE_MS = 30_000;
/**
 * Repeats of an alert (triggers folded into it by dedup key) recorded one event each; beyond these, a key that
 * keeps firing would grow the stream without bound, so further repeats are counted and summarized.
 */
export const REPEATS_RECORDED_ONE_BY_ONE = 5;

/** Deliveries of a schedule step beyond the first are named after the first and the user they page. */
const ON_CALL_DELIVERY_NAMESPACE = '6a1f4c2e-93b7-4d58-8e0a-2f5c7b9d1e34';
/** A person's rule deliveries are named after the delivery that would have paged them and the rule's place. */
const RULE_DELIVERY_NAMESPACE = 'c4d2a7e1-5b83-4f96-9a0d-3e8b1f6c2d75';

/** A snooze lasts from a minute to a week. */
export const MAX_SNOOZE_MINUTES = 7 * 24 * 60;

const at = (date: Date) => date.toISOString();
const plusSeconds = (iso: string, seconds: number) => new Date(Date.parse(iso) + Math.round(seconds * 1000)).toISOString();

function nextAfter(state: OpenAlertState, loop: number, step: number): { loop: number; step: number } | null {
  if (step + 1 < state.steps.length) return { loop, step: step + 1 };
  if (loop < state.repeat) return { loop: loop + 1, step: 0 };
  return null;
}

function decideTrigger(command: Extract<AlertCommand, { type: 'TriggerAlert' }>, state: AlertState): AlertEvent[] {
  if (state.status !== 'none') {
    if (command.dedupKey === null || state.dedupKey !== command.dedupKey) {
      throw conflict(`alert ${command.alertId} already exists`, 'alert_exists');
    }
    if (state.status === 'resolved') throw conflict('the alert for this dedup key is resolved', 'alert_closed');
    // Later repeats are counted outside the stream and summarized into it periodically (RecordRepeats).
    if (state.dedupCount >= REPEATS_RECORDED_ONE_BY_ONE) return [];
    return [
      {
        type: 'AlertDeduplicated',
        data: {
          alertId: state.alertId,
          dedupCount: state.dedupCount + 1,
          summary: command.summary,
          severity: command.severity,
          at: at(command.now),
        },
      },
    ];
  }
  const first = command.flow.nodes[0];
  if (!first) throw invalid('the flow has no steps to escalate through', 'flow_empty');
  const triggeredAt = at(command.now);
  const suppression = command.suppression && command.suppression.until.getTime() > command.now.getTime() ? command.suppression : null;
  // Held back by a maintenance window, the escalation starts when the window ends, as if triggered then.
  const escalationStart = suppression ? at(suppression.until) : triggeredAt;
  return [
    {
      type: 'AlertTriggered',
      data: {
        alertId: command.alertId,
        teamId: command.teamId,
        flowId: command.flow.flowId,
        flowVersion: command.flow.version,
        summary: command.summary,
        details: command.details ?? null,
        severity: command.severity,
        dedupKey: command.dedupKey,
        source: command.source,
        steps: command.flow.nodes,
        repeat: command.flow.repeat,
        ...(command.flow.ackTimeoutMinutes ? { ackTimeoutMinutes: command.flow.ackTimeoutMinutes } : {}),
        triggeredAt,
      },
    },
    ...(suppression
      ? [{ type: 'AlertSuppressed' as const, data: { alertId: command.alertId, windowId: suppression.windowId, until: escalationStart } }]
      : []),
    {
      type: 'EscalationStepScheduled',
      data: { alertId: command.alertId, epoch: 0, loop: 0, step: 0, dueAt: plusSeconds(escalationStart, first.delaySeconds) },
    },
  ];
}

/** A summary of repeats counted outside the stream; one that adds nothing is a no-op, so a retried summary is harmless. */
function decideRecordRepeats(command: Extract<AlertCommand, { type: 'RecordRepeats' }>, state: AlertState): AlertEvent[] {
  if (state.status === 'none') throw notFound('alert not found');
  if (command.dedupCount <= state.dedupCount) return [];
  return [
    {
      type: 'AlertDeduplicated',
      data: { alertId: state.alertId, dedupCount: command.dedupCount, summary: command.summary, severity: command.severity, at: at(command.at) },
    },
  ];
}

interface DeliveryRequest {
  deliveryId: string;
  target: NodeTarget;
  notBefore?: string;
  recipient?: { userId: string; contactMethodId: string };
  format?: 'json' | 'slack';
}

/** A person is paged by each of their rules, each a delivery of its own; without rules, at their account's e-mail now. */
function requestsByRules(person: { deliveryId: string; userId: string }, rules: readonly PagingRule[], firedAt: string): DeliveryRequest[] {
  if (rules.length === 0) return [{ deliveryId: person.deliveryId, target: { type: 'user', userId: person.userId } }];
  return rules.map((rule, index) => ({
    deliveryId: uuidV5(`${person.deliveryId}/rule/${index}`, RULE_DELIVERY_NAMESPACE),
    target: rule.target,
    ...(rule.delaySeconds > 0 ? { notBefore: plusSeconds(firedAt, rule.delaySeconds) } : {}),
    recipient: { userId: person.userId, contactMethodId: rule.contactMethodId },
    ...(rule.target.type === 'webhook' ? { format: rule.format } : {}),
  }));
}

function decideFire(command: Extract<AlertCommand, { type: 'FireEscalationStep' }>, state: AlertState): AlertEvent[] {
  // A stale, duplicate or post-acknowledgement timer is a no-op, not an error.
  if (state.status !== 'triggered' || !state.pending) return [];
  const { pending } = state;
  if (state.epoch !== command.epoch || pending.loop !== command.loop || pending.step !== command.step) return [];
  const node = state.steps[pending.step]!;
  // A schedule step fires with who is on call, a step paging people with their rules, both looked up by the
  // handler: without them, there is nothing to decide.
  if (node.target.type === 'schedule' && !command.onCall) return [];
  if ((node.target.type === 'user' || node.target.type === 'schedule') && !command.rules) return [];
  const firedAt = at(command.now);
  const onCallUsers = [...(command.onCall?.userIds ?? [])];
  const onCall =
    node.target.type === 'schedule'
      ? {
          scheduleId: node.target.scheduleId,
          userIds: onCallUsers,
          reason: onCallUsers.length > 0 ? null : (command.onCall?.reason ?? null),
        }
      : undefined;
  const people: { deliveryId: string; userId: string }[] = onCall
    ? onCall.userIds.map((userId, index) => ({
        deliveryId: index === 0 ? command.deliveryId : uuidV5(`${command.deliveryId}/${userId}`, ON_CALL_DELIVERY_NAMESPACE),
        userId,
      }))
    : node.target.type === 'user'
      ? [{ deliveryId: command.deliveryId, userId: node.target.userId }]
      : [];
  const requests: DeliveryRequest[] =
    node.target.type === 'user' || node.target.type === 'schedule'
      ? people.flatMap((person) => requestsByRules(person, command.rules?.[person.userId] ?? [], firedAt))
      : [{ deliveryId: command.deliveryId, target: node.target }];
  const events: AlertEvent[] = [
    ...(state.suppression ? [{ type: 'SuppressionEnded' as const, data: { alertId: state.alertId, epoch: state.epoch, at: firedAt } }] : []),
    {
      type: 'EscalationStepFired',
      data: {
        alertId: state.alertId,
        epoch: state.epoch,
        loop: pending.loop,
        step: pending.step,
        nodeId: node.id,
        dueAt: pending.dueAt,
        firedAt,
        lagMs: command.now.getTime() - Date.parse(pending.dueAt),
        ...(onCall ? { onCall } : {}),
      },
    },
    ...requests.map(({ deliveryId, target, ...rest }): AlertEvent => ({
      type: 'NotificationRequested',
      data: {
        alertId: state.alertId,
        deliveryId,
        loop: pending.loop,
        step: pending.step,
        nodeId: node.id,
        target,
        retry: node.retry,
        requestedAt: firedAt,
        ...rest,
      },
    })),
  ];
  const next = nextAfter(state, pending.loop, pending.step);
  if (next) {
    // Due times chain from due times, so lag never accumulates along the flow; a step that paged nobody does not
    // make the next one wait for its delay.
    const dueAt = requests.length === 0 ? firedAt : plusSeconds(pending.dueAt, state.steps[next.step]!.delaySeconds);
    events.push({ type: 'EscalationStepScheduled', data: { alertId: state.alertId, epoch: state.epoch, ...next, dueAt } });
  } else {
    events.push({ type: 'EscalationExhausted', data: { alertId: state.alertId, loops: state.repeat + 1, at: firedAt } });
  }
  return events;
}

/** Rule deliveries waiting for their delay are cancelled at once, so none is left hanging on the alert. */
function cancelledNotYetDue(alert: OpenAlertState, reason: 'acknowledged' | 'resolved', now: Date): AlertEvent[] {
  return Object.values(alert.notifications)
    .filter((notification) => notification.status === 'pending' && notification.nextAttemptAt !== null && Date.parse(notification.nextAttemptAt) > now.getTime())
    .map((notification) => ({ type: 'NotificationCancelled', data: { alertId: alert.alertId, deliveryId: notification.deliveryId, reason, at: at(now) } }));
}

function requireTeamAlert(state: AlertState, teamId: string): OpenAlertState {
  if (state.status === 'none' || state.teamId !== teamId) throw notFound('alert not found');
  return state;
}

function decideStartAttempt(command: Extract<AlertCommand, { type: 'StartNotificationAttempt' }>, state: AlertState): AlertEvent[] {
  if (state.status === 'none') return [];
  const notification = state.notifications[command.deliveryId];
  if (!notification || ['delivered', 'abandoned', 'cancelled'].includes(notification.status)) return [];
  const now = at(command.now);
  const base = { alertId: state.alertId, deliveryId: notification.deliveryId };
  if (state.status !== 'triggered') {
    return [{ type: 'NotificationCancelled', data: { ...base, reason: state.status, at: now } }];
  }
  const events: AlertEvent[] = [];
  if (notification.openAttempt !== null) {
    const owner = notification.openAttemptSender;
    const ownerGone = owner !== null && owner !== command.sender && command.deadSenders.includes(owner);
    const leaseOver = command.now.getTime() >= Date.parse(notification.openAttemptLeaseEndsAt ?? now);
    if (!ownerGone && !leaseOver) return [];
    // Cut off mid-send: whether it arrived is unknown. Channels carry a stable delivery id, so resending is safe.
    events.push({ type: 'NotificationOutcomeUnknown', data: { ...base, attempt: notification.openAttempt, policy: 'resend', at: now } });
  } else if (
    notification.nextAttemptAt !== null &&
    Date.parse(notification.nextAttemptAt) - EARLY_TOLERANCE_MS > command.now.getTime()
  ) {
    return [];
  }
  events.push({
    type: 'NotificationAttemptStarted',
    data: {
      ...base,
      attempt: notification.attempts + 1,
      startedAt: now,
      sender: command.sender,
      leaseEndsAt: new Date(command.now.getTime() + ATTEMPT_LEASE_MS).toISOString(),
    },
  });
  return events;
}

function decideOutcome(command: Extract<AlertCommand, { type: 'RecordNotificationOutcome' }>, state: AlertState): AlertEvent[] {
  if (state.status === 'none') return [];
  const notification = state.notifications[command.deliveryId];
  if (!notification || notification.openAttempt !== command.attempt) return [];
  const now = at(command.now);
  const base = { alertId: state.alertId, deliveryId: notification.deliveryId, attempt: command.attempt };
  if (command.outcome.delivered) {
    return [{ type: 'NotificationDelivered', data: { ...base, deliveredAt: now, detail: command.outcome.detail } }];
  }
  const failedAttempts = notification.failedAttempts + 1;
  if (!command.outcome.permanent && failedAttempts < notification.retry.maxAttempts) {
    const backoff = Math.min(MAX_BACKOFF_SECONDS, notification.retry.backoffSeconds * 2 ** (failedAttempts - 1));
    return [{ type: 'NotificationFailed', data: { ...base, error: command.outcome.error, failedAt: now, retryAt: plusSeconds(now, backoff) } }];
  }
  const events: AlertEvent[] = [{ type: 'NotificationFailed', data: { ...base, error: command.outcome.error, failedAt: now, retryAt: null } }];
  // Nobody was reached at this step: the next step should not wait for its delay.
  const successor = nextAfter(state, notification.loop, notification.step);
  const pending = state.pending;
  if (
    state.status === 'triggered' &&
    pending &&
    successor &&
    pending.loop === successor.loop &&
    pending.step === successor.step &&
    Date.parse(pending.dueAt) > command.now.getTime()
  ) {
    events.push({
      type: 'EscalationStepScheduled',
      data: { alertId: state.alertId, epoch: state.epoch + 1, loop: pending.loop, step: pending.step, dueAt: now },
    });
  }
  return events;
}

/** The acknowledgement timeout's clock, started by an acknowledgement of the given epoch. */
function ackTimeoutScheduled(alert: OpenAlertState, epoch: number, now: Date): AlertEvent[] {
  if (alert.ackTimeoutMinutes === null) return [];
  return [{ type: 'AcknowledgementTimeoutScheduled', data: { alertId: alert.alertId, epoch, dueAt: plusSeconds(at(now), alert.ackTimeoutMinutes * 60) } }];
}

function decideAcknowledge(command: Extract<AlertCommand, { type: 'AcknowledgeAlert' }>, state: AlertState): AlertEvent[] {
  const alert = requireTeamAlert(state, command.teamId);
  // Acknowledging again restarts an acknowledgement timeout's clock; without one it is a no-op.
  if (alert.status === 'resolved' || (alert.status === 'acknowledged' && alert.ackTimeoutMinutes === null)) return [];
  const epoch = alert.epoch + 1;
  return [
    { type: 'AlertAcknowledged', data: { alertId: alert.alertId, epoch, by: command.by, at: at(command.now) } },
    ...ackTimeoutScheduled(alert, epoch, command.now),
    ...(alert.status === 'triggered' ? cancelledNotYetDue(alert, 'acknowledged', command.now) : []),
  ];
}

function decideSnooze(command: Extract<AlertCommand, { type: 'SnoozeAlert' }>, state: AlertState): AlertEvent[] {
  const alert = requireTeamAlert(state, command.teamId);
  if (!Number.isInteger(command.minutes) || command.minutes < 1 || command.minutes > MAX_SNOOZE_MINUTES) {
    throw invalid(`a snooze lasts a whole number of minutes from 1 to ${MAX_SNOOZE_MINUTES}`, 'invalid_snooze', 'minutes');
  }
  if (alert.status === 'resolved') throw conflict('a resolved alert cannot be snoozed', 'alert_resolved');
  const epoch = alert.epoch + 1;
  const now = at(command.now);
  const snoozed: AlertEvent = {
    type: 'AlertSnoozed',
    data: { alertId: alert.alertId, epoch, by: command.by, at: now, until: plusSeconds(now, command.minutes * 60) },
  };
  if (alert.status === 'acknowledged') return [snoozed];
  return [
    { type: 'AlertAcknowledged', data: { alertId: alert.alertId, epoch, by: command.by, at: now } },
    snoozed,
    ...cancelledNotYetDue(alert, 'acknowledged', command.now),
  ];
}

function decideNote(command: Extract<AlertCommand, { type: 'AddAlertNote' }>, state: AlertState): AlertEvent[] {
  const alert = requireTeamAlert(state, command.teamId);
  const text = command.text.trim();
  if (text.length < 1 || text.length > MAX_NOTE_LENGTH) {
    throw invalid(`a note has from 1 to ${MAX_NOTE_LENGTH} characters`, 'invalid_note', 'text');
  }
  if (alert.noteCount >= MAX_NOTES_PER_ALERT) throw conflict(`an alert holds at most ${MAX_NOTES_PER_ALERT} notes`, 'too_many_notes');
  return [{ type: 'AlertNoteAdded', data: { alertId: alert.alertId, noteId: command.noteId, text, by: command.by, at: at(command.now) } }];
}

function decideReTrigger(command: Extract<AlertCommand, { type: 'ReTriggerAlert' }>, state: AlertState): AlertEvent[] {
  // Acknowledging again, snoozing again or resolving bumped the epoch: an older timer, or one that already fired, is a no-op.
  if (state.status !== 'acknowledged' || !state.reTrigger || state.epoch !== command.epoch) return [];
  const epoch = state.epoch + 1;
  const now = at(command.now);
  const base = { alertId: state.alertId, epoch, at: now };
  return [
    state.reTrigger.reason === 'snooze' ? { type: 'SnoozeEnded', data: base } : { type: 'AcknowledgementTimedOut', data: base },
    {
      type: 'EscalationStepScheduled',
      data: { alertId: state.alertId, epoch, loop: 0, step: 0, dueAt: plusSeconds(now, state.steps[0]!.delaySeconds) },
    },
  ];
}

/** An alert held back by a window deleted early escalates from now; anything else (already started, closed) is a no-op. */
function decideEndSuppression(command: Extract<AlertCommand, { type: 'EndSuppression' }>, state: AlertState): AlertEvent[] {
  if (state.status !== 'triggered' || state.suppression?.windowId !== command.windowId || !state.pending) return [];
  const { pending } = state;
  const epoch = state.epoch + 1;
  const now = at(command.now);
  const startsNow = plusSeconds(now, state.steps[pending.step]!.delaySeconds);
  const dueAt = Date.parse(startsNow) < Date.parse(pending.dueAt) ? startsNow : pending.dueAt;
  return [
    { type: 'SuppressionEnded', data: { alertId: state.alertId, epoch, at: now } },
    { type: 'EscalationStepScheduled', data: { alertId: state.alertId, epoch, loop: pending.loop, step: pending.step, dueAt } },
  ];
}

/** A page that reached nobody (failed, abandoned, or cut off mid-send) is sent again under its delivery id. */
function decideResend(command: Extract<AlertCommand, { type: 'ResendNotification' }>, state: AlertState): AlertEvent[] {
  const alert = requireTeamAlert(state, command.teamId);
  const notification = alert.notifications[command.deliveryId];
  if (!notification) throw new DomainError('not_found', 'notification not found', 'notification_not_found');
  if (notification.status === 'delivered') throw conflict('the notification was delivered', 'notification_delivered');
  if (alert.status !== 'triggered') throw conflict(`the alert is ${alert.status}: nobody needs paging`, 'alert_not_triggered');
  const undelivered =
    notification.status === 'abandoned' ||
    notification.status === 'retry_scheduled' ||
    (notification.status === 'in_flight' && notification.openAttempt === null);
  if (!undelivered) throw conflict(`the notification is ${notification.status}, not undelivered`, 'notification_not_undelivered');
  return [
    { type: 'NotificationResendRequested', data: { alertId: alert.alertId, deliveryId: notification.deliveryId, by: command.by, at: at(command.now) } },
  ];
}

export function decide(command: AlertCommand, state: AlertState): AlertEvent[] {
  switch (command.type) {
    case 'TriggerAlert':
      return decideTrigger(command, state);
    case 'RecordRepeats':
      return decideRecordRepeats(command, state);
    case 'FireEscalationStep':
      return decideFire(command, state);
    case 'AcknowledgeAlert':
      return decideAcknowledge(command, state);
    case 'SnoozeAlert':
      return decideSnooze(command, state);
    case 'AddAlertNote':
      return decideNote(command, state);
    case 'ReTriggerAlert':
      return decideReTrigger(command, state);
    case 'ResolveAlert': {
      const alert = requireTeamAlert(state, command.teamId);
      if (alert.status === 'resolved') return [];
      return [
        { type: 'AlertResolved', data: { alertId: alert.alertId, epoch: alert.epoch + 1, by: command.by, at: at(command.now) } },
        ...cancelledNotYetDue(alert, 'resolved', command.now),
      ];
    }
    case 'EscalateAlert': {
      const alert = requireTeamAlert(state, command.teamId);
      if (alert.status !== 'triggered') throw conflict(`an ${alert.status} alert cannot be escalated`, 'alert_not_triggered');
      const pending = alert.pending;
      if (!pending || Date.parse(pending.dueAt) <= command.now.getTime()) return [];
      const epoch = alert.epoch + 1;
      const now = at(command.now);
      return [
        { type: 'AlertEscalatedManually', data: { alertId: alert.alertId, epoch, by: command.by, at: now } },
        { type: 'EscalationStepScheduled', data: { alertId: alert.alertId, epoch, loop: pending.loop, step: pending.step, dueAt: now } },
      ];
    }
    case 'StartNotificationAttempt':
      return decideStartAttempt(command, state);
    case 'RecordNotificationOutcome':
      return decideOutcome(command, state);
    case 'EndSuppression':
      return decideEndSuppression(command, state);
    case 'ResendNotification':
      return decideResend(command, state);
  }
}

function updateNotification(state: OpenAlertState, deliveryId: string, change: Partial<NotificationState>): OpenAlertState {
  const current = state.notifications[deliveryId];
  if (!current) return state;
  return { ...state, notifications: { ...state.notifications, [deliveryId]: { ...current, ...change } } };
}

export function evolve(state: AlertState, event: AlertEvent): AlertState {
  if (event.type === 'AlertTriggered') {
    const e = event.data;
    return {
      status: 'triggered',
      alertId: e.alertId,
      teamId: e.teamId,
      flowId: e.flowId,
      flowVersion: e.flowVersion,
      summary: e.summary,
      details: e.details,
      severity: e.severity,
      dedupKey: e.dedupKey,
      steps: e.steps,
      repeat: e.repeat,
      dedupCount: 0,
      epoch: 0,
      pending: null,
      exhausted: false,
      notifications: {},
      ackTimeoutMinutes: e.ackTimeoutMinutes ?? null,
      reTrigger: null,
      noteCount: 0,
      suppression: null,
    };
  }
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'AlertDeduplicated':
      return { ...state, dedupCount: event.data.dedupCount };
    case 'EscalationStepScheduled':
      return { ...state, epoch: event.data.epoch, pending: { loop: event.data.loop, step: event.data.step, dueAt: event.data.dueAt } };
    case 'EscalationStepFired':
      return { ...state, pending: null };
    case 'EscalationExhausted':
      return { ...state, pending: null, exhausted: true };
    case 'NotificationRequested': {
      const e = event.data;
      const notification: NotificationState = {
        deliveryId: e.deliveryId,
        loop: e.loop,
        step: e.step,
        nodeId: e.nodeId,
        target: e.target,
        format: e.format ?? 'json',
        retry: e.retry,
        status: 'pending',
        attempts: 0,
        failedAttempts: 0,
        openAttempt: null,
        openAttemptSender: null,
        openAttemptLeaseEndsAt: null,
        nextAttemptAt: e.notBefore ?? null,
      };
      return { ...state, notifications: { ...state.notifications, [e.deliveryId]: notification } };
    }
    case 'NotificationAttemptStarted':
      return updateNotification(state, event.data.deliveryId, {
        status: 'in_flight',
        attempts: event.data.attempt,
        openAttempt: event.data.attempt,
        openAttemptSender: event.data.sender,
        openAttemptLeaseEndsAt: event.data.leaseEndsAt,
        nextAttemptAt: null,
      });
    case 'NotificationOutcomeUnknown':
      return updateNotification(state, event.data.deliveryId, { openAttempt: null });
    case 'NotificationDelivered':
      return updateNotification(state, event.data.deliveryId, { status: 'delivered', openAttempt: null });
    case 'NotificationFailed': {
      const failed = state.notifications[event.data.deliveryId]?.failedAttempts ?? 0;
      return updateNotification(state, event.data.deliveryId, {
        status: event.data.retryAt ? 'retry_scheduled' : 'abandoned',
        failedAttempts: failed + 1,
        openAttempt: null,
        nextAttemptAt: event.data.retryAt,
      });
    }
    case 'NotificationCancelled':
      return updateNotification(state, event.data.deliveryId, { status: 'cancelled', openAttempt: null });
    case 'AlertAcknowledged':
      return { ...state, status: 'acknowledged', epoch: event.data.epoch, pending: null, reTrigger: null };
    case 'AlertResolved':
      return { ...state, status: 'resolved', epoch: event.data.epoch, pending: null, reTrigger: null };
    case 'AcknowledgementTimeoutScheduled':
      return { ...state, epoch: event.data.epoch, reTrigger: { reason: 'ack_timeout', dueAt: event.data.dueAt } };
    case 'AlertSnoozed':
      return { ...state, status: 'acknowledged', epoch: event.data.epoch, pending: null, reTrigger: { reason: 'snooze', dueAt: event.data.until } };
    case 'AcknowledgementTimedOut':
    case 'SnoozeEnded':
      return { ...state, status: 'triggered', epoch: event.data.epoch, pending: null, exhausted: false, reTrigger: null };
    case 'AlertNoteAdded':
      return { ...state, noteCount: state.noteCount + 1 };
    case 'AlertEscalatedManually':
      return { ...state, epoch: event.data.epoch };
    case 'AlertSuppressed':
      return { ...state, suppression: { windowId: event.data.windowId, until: event.data.until } };
    case 'SuppressionEnded':
      return { ...state, epoch: event.data.epoch, suppression: null };
    case 'NotificationResendRequested':
      return updateNotification(state, event.data.deliveryId, { status: 'pending', failedAttempts: 0, openAttempt: null, nextAttemptAt: null });
  }
}

export const initialState = (): AlertState => ({ status: 'none' });

export const alertDecider: Decider<AlertCommand, AlertState, AlertEvent> = { initialState, evolve, decide };
