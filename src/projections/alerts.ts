import type { Selectable } from 'kysely';
import type { AlertEventOf } from '../domain/alert/events.js';
import { defineProjection } from './projection.js';
import type { TableView } from './read-model-batch.js';
import type {
  AlertNotesTable,
  AlertNotificationsTable,
  AlertsTable,
  PendingDeliveriesTable,
  PendingEscalationsTable,
  PendingRetriggersTable,
  TeamOpenAlertsTable,
} from './read-models.js';

type AlertRow = Selectable<AlertsTable>;
type NotificationRow = Selectable<AlertNotificationsTable>;

function countOpenAlerts(openAlerts: TableView<Selectable<TeamOpenAlertsTable>, 'team_id'>, teamId: string, change: 1 | -1): void {
  const current = openAlerts.get({ team_id: teamId })?.open_alerts ?? 0;
  openAlerts.put({ team_id: teamId, open_alerts: Math.max(0, current + change) });
}

/** Back to triggered: no longer acknowledged, escalating again from the first step (scheduled by the next event). */
function triggeredAgain(alerts: TableView<AlertRow, 'id'>, data: { alertId: string; epoch: number }, recordedAt: Date): void {
  alerts.update(
    { id: data.alertId },
    {
      status: 'triggered', epoch: data.epoch, acknowledged_at: null, acknowledged_by: null, snoozed_until: null, ack_timeout_at: null,
      exhausted: false, current_loop: null, current_step: null, updated_at: recordedAt,
    },
  );
}

/** Alert list and detail: status, escalation progress, dedup count, and each notification with its attempts. */
export const alertsProjection = defineProjection<
  {
    alerts: AlertRow;
    alert_notifications: NotificationRow;
    team_open_alerts: Selectable<TeamOpenAlertsTable>;
    alert_notes: Selectable<AlertNotesTable>;
  },
  AlertEventOf<
    | 'AlertTriggered' | 'AlertDeduplicated' | 'EscalationStepScheduled' | 'EscalationStepFired' | 'EscalationExhausted'
    | 'AlertAcknowledged' | 'AlertResolved' | 'AlertEscalatedManually' | 'NotificationRequested' | 'NotificationAttemptStarted'
    | 'NotificationDelivered' | 'NotificationFailed' | 'NotificationCancelled'
    | 'AlertSnoozed' | 'AcknowledgementTimeoutScheduled' | 'AcknowledgementTimedOut' | 'SnoozeEnded' | 'AlertNoteAdded'
    | 'AlertSuppressed' | 'SuppressionEnded' | 'NotificationOutcomeUnknown' | 'NotificationResendRequested'
  >
>()({
  name: 'alerts',
  keys: { alerts: ['id'], alert_notifications: ['delivery_id'], team_open_alerts: ['team_id'], alert_notes: ['id'] },
  handlers: {
    AlertTriggered({ alerts, team_open_alerts }, { data: e, recordedAt }) {
      countOpenAlerts(team_open_alerts, e.teamId, 1);
      alerts.put({
        id: e.alertId, team_id: e.teamId, flow_id: e.flowId, flow_version: e.flowVersion, status: 'triggered',
        summary: e.summary, details: e.details, severity: e.severity, dedup_key: e.dedupKey, source: e.source,
        dedup_count: 0, step_count: e.steps.length, repeat: e.repeat, epoch: 0, current_loop: null, current_step: null,
        next_escalation_at: null, exhausted: false, triggered_at: new Date(e.triggeredAt), acknowledged_at: null,
        acknowledged_by: null, resolved_at: null, resolved_by: null, snoozed_until: null, ack_timeout_at: null, note_count: 0,
        updated_at: recordedAt, suppressed_by: null, suppressed_until: null,
      });
    },
    AlertDeduplicated({ alerts }, { data, recordedAt }) {
      alerts.update({ id: data.alertId }, { dedup_count: data.dedupCount, updated_at: recordedAt });
    },
    EscalationStepScheduled({ alerts }, { data, recordedAt }) {
      alerts.update({ id: data.alertId }, { epoch: data.epoch, next_escalation_at: new Date(data.dueAt), updated_at: recordedAt });
    },
    EscalationStepFired({ alerts }, { data, recordedAt }) {
      alerts.update({ id: data.alertId }, { current_loop: data.loop, current_step: data.step, next_escalation_at: null, updated_at: recordedAt });
    },
    EscalationExhausted({ alerts }, { data, recordedAt }) {
      alerts.update({ id: data.alertId }, { exhausted: true, next_escalation_at: null, updated_at: recordedAt });
    },
    AlertAcknowledged({ alerts }, { data, recordedAt }) {
      alerts.update(
        { id: data.alertId },
        {
          status: 'acknowledged', epoch: data.epoch, acknowledged_at: new Date(data.at), acknowledged_by: data.by, next_escalation_at: null,
          snoozed_until: null, ack_timeout_at: null, updated_at: recordedAt,
        },
      );
    },
    AcknowledgementTimeoutScheduled({ alerts }, { data, recordedAt }) {
      alerts.update({ id: data.alertId }, { epoch: data.epoch, ack_timeout_at: new Date(data.dueAt), updated_at: recordedAt });
    },
    AlertSnoozed({ alerts }, { data, recordedAt }) {
      alerts.update(
        { id: data.alertId },
        { status: 'acknowledged', epoch: data.epoch, next_escalation_at: null, snoozed_until: new Date(data.until), ack_timeout_at: null, updated_at: recordedAt },
      );
    },
    AcknowledgementTimedOut: (readModel, { data, recordedAt }) => triggeredAgain(readModel.alerts, data, recordedAt),
    SnoozeEnded: (readModel, { data, recordedAt }) => triggeredAgain(readModel.alerts, data, recordedAt),
    AlertNoteAdded({ alerts, alert_notes }, { data, metadata, recordedAt }) {
      const alert = alerts.get({ id: data.alertId });
      if (!alert) return;
      alert_notes.put({ id: data.noteId, alert_id: data.alertId, team_id: metadata.teamId ?? alert.team_id, text: data.text, author: data.by, created_at: new Date(data.at) });
      alerts.update({ id: data.alertId }, { note_count: alert.note_count + 1, updated_at: recordedAt });
    },
    AlertResolved({ alerts, team_open_alerts }, { data, metadata, recordedAt }) {
      if (metadata.teamId) countOpenAlerts(team_open_alerts, metadata.teamId, -1);
      alerts.update(
        { id: data.alertId },
        {
          status: 'resolved', epoch: data.epoch, resolved_at: new Date(data.at), resolved_by: data.by, next_escalation_at: null,
          snoozed_until: null, ack_timeout_at: null, updated_at: recordedAt,
        },
      );
    },
    AlertEscalatedManually({ alerts }, { data, recordedAt }) {
      alerts.update({ id: data.alertId }, { epoch: data.epoch, updated_at: recordedAt });
    },
    NotificationRequested({ alert_notifications }, { data: e, metadata, recordedAt }) {
      alert_notifications.put({
        delivery_id: e.deliveryId, alert_id: e.alertId, team_id: metadata.teamId, loop: e.loop, step: e.step, node_id: e.nodeId,
        target: e.target, recipient_user_id: e.recipient?.userId ?? null, status: 'pending', attempts: 0, last_error: null, requested_at: new Date(e.requestedAt), delivered_at: null,
        updated_at: recordedAt,
      });
    },
    NotificationAttemptStarted({ alert_notifications }, { data, recordedAt }) {
      alert_notifications.update({ delivery_id: data.deliveryId }, { status: 'in_flight', attempts: data.attempt, updated_at: recordedAt });
    },
    NotificationDelivered({ alert_notifications }, { data, recordedAt }) {
      alert_notifications.update(
        { delivery_id: data.deliveryId },
        { status: 'delivered', delivered_at: new Date(data.deliveredAt), last_error: null, updated_at: recordedAt },
      );
    },
    NotificationFailed({ alert_notifications }, { data, recordedAt }) {
      alert_notifications.update(
        { delivery_id: data.deliveryId },
        { status: data.retryAt ? 'retry_scheduled' : 'abandoned', last_error: data.error, updated_at: recordedAt },
      );
    },
    NotificationCancelled({ alert_notifications }, { data, recordedAt }) {
      alert_notifications.update({ delivery_id: data.deliveryId }, { status: 'cancelled', updated_at: recordedAt });
    },
    AlertSuppressed({ alerts }, { data, recordedAt }) {
      alerts.update({ id: data.alertId }, { suppressed_by: data.windowId, suppressed_until: new Date(data.until), updated_at: recordedAt });
    },
    SuppressionEnded({ alerts }, { data, recordedAt }) {
      alerts.update({ id: data.alertId }, { suppressed_by: null, suppressed_until: null, epoch: data.epoch, updated_at: recordedAt });
    },
    NotificationOutcomeUnknown({ alert_notifications }, { data, recordedAt }) {
      alert_notifications.update(
        { delivery_id: data.deliveryId },
        { status: 'unknown', last_error: `the outcome of attempt ${data.attempt} is unknown: its sender stopped mid-send`, updated_at: recordedAt },
      );
    },
    NotificationResendRequested({ alert_notifications }, { data, recordedAt }) {
      alert_notifications.update({ delivery_id: data.deliveryId }, { status: 'pending', updated_at: recordedAt });
    },
  },
});

/**
 * What the engine still owes: the pending step of every open alert and every notification awaiting an attempt.
 * The sweeper re-drives anything here that is overdue, so a lost broker message only delays work.
 */
export const inFlightProjection = defineProjection<
  {
    pending_escalations: Selectable<PendingEscalationsTable>;
    pending_deliveries: Selectable<PendingDeliveriesTable>;
    pending_retriggers: Selectable<PendingRetriggersTable>;
  },
  AlertEventOf<
    | 'EscalationStepScheduled' | 'EscalationStepFired' | 'EscalationExhausted' | 'AlertAcknowledged' | 'AlertResolved'
    | 'NotificationRequested' | 'NotificationAttemptStarted' | 'NotificationDelivered' | 'NotificationFailed' | 'NotificationCancelled'
    | 'AcknowledgementTimeoutScheduled' | 'AlertSnoozed' | 'AcknowledgementTimedOut' | 'SnoozeEnded'
    | 'NotificationResendRequested'
  >
>()({
  name: 'in-flight',
  keys: { pending_escalations: ['alert_id'], pending_deliveries: ['delivery_id'], pending_retriggers: ['alert_id'] },
  handlers: {
    EscalationStepScheduled({ pending_escalations }, { data: e, metadata }) {
      pending_escalations.put({ alert_id: e.alertId, team_id: metadata.teamId ?? '', epoch: e.epoch, loop: e.loop, step: e.step, due_at: new Date(e.dueAt) });
    },
    // An alert's events arrive in stream order, so the step that fired is the one pending.
    EscalationStepFired: ({ pending_escalations }, { data }) => pending_escalations.delete({ alert_id: data.alertId }),
    EscalationExhausted: ({ pending_escalations }, { data }) => pending_escalations.delete({ alert_id: data.alertId }),
    AlertAcknowledged({ pending_escalations, pending_retriggers }, { data }) {
      pending_escalations.delete({ alert_id: data.alertId });
      pending_retriggers.delete({ alert_id: data.alertId });
    },
    AlertResolved({ pending_escalations, pending_retriggers }, { data }) {
      pending_escalations.delete({ alert_id: data.alertId });
      pending_retriggers.delete({ alert_id: data.alertId });
    },
    AcknowledgementTimeoutScheduled({ pending_retriggers }, { data, metadata }) {
      pending_retriggers.put({ alert_id: data.alertId, team_id: metadata.teamId ?? '', epoch: data.epoch, due_at: new Date(data.dueAt) });
    },
    AlertSnoozed({ pending_escalations, pending_retriggers }, { data, metadata }) {
      pending_escalations.delete({ alert_id: data.alertId });
      pending_retriggers.put({ alert_id: data.alertId, team_id: metadata.teamId ?? '', epoch: data.epoch, due_at: new Date(data.until) });
    },
    AcknowledgementTimedOut: ({ pending_retriggers }, { data }) => pending_retriggers.delete({ alert_id: data.alertId }),
    SnoozeEnded: ({ pending_retriggers }, { data }) => pending_retriggers.delete({ alert_id: data.alertId }),
    NotificationRequested({ pending_deliveries }, { data }) {
      pending_deliveries.put({ delivery_id: data.deliveryId, alert_id: data.alertId, due_at: new Date(data.notBefore ?? data.requestedAt), sender: null });
    },
    NotificationAttemptStarted({ pending_deliveries }, { data }) {
      // If its sender stops, or no outcome is recorded within the lease, the sweeper hands the delivery back.
      pending_deliveries.put({ delivery_id: data.deliveryId, alert_id: data.alertId, due_at: new Date(data.leaseEndsAt), sender: data.sender });
    },
    NotificationFailed({ pending_deliveries }, { data }) {
      if (data.retryAt) pending_deliveries.put({ delivery_id: data.deliveryId, alert_id: data.alertId, due_at: new Date(data.retryAt), sender: null });
      else pending_deliveries.delete({ delivery_id: data.deliveryId });
    },
    NotificationDelivered: ({ pending_deliveries }, { data }) => pending_deliveries.delete({ delivery_id: data.deliveryId }),
    NotificationCancelled: ({ pending_deliveries }, { data }) => pending_deliveries.delete({ delivery_id: data.deliveryId }),
    NotificationResendRequested({ pending_deliveries }, { data }) {
      pending_deliveries.put({ delivery_id: data.deliveryId, alert_id: data.alertId, due_at: new Date(data.at), sender: null });
    },
  },
});

