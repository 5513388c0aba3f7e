import { ATTEMPT_LEASE_MS } from '../domain/alert/decider.js';
import type { AlertEvent } from '../domain/alert/events.js';
import { defineProjection } from './projection.js';
import type { AlertNotificationsTable, AlertsTable, PendingDeliveriesTable, PendingEscalationsTable } from './read-models.js';

const json = (value: unknown) => JSON.stringify(value ?? null);


/** Alert list and detail: status, escalation progress, dedup count, and each notification with its attempts. */
export const alertsProjection = defineProjection<{ alerts: AlertsTable; alert_notifications: AlertNotificationsTable }, AlertEvent>({
  name: 'alerts',
  tables: ['alerts', 'alert_notifications'],
  handles: new Set([
    'AlertTriggered', 'AlertDeduplicated', 'EscalationStepScheduled', 'EscalationStepFired', 'EscalationExhausted',
    'AlertAcknowledged', 'AlertResolved', 'AlertEscalatedManually', 'NotificationRequested', 'NotificationAttemptStarted',
    'NotificationDelivered', 'NotificationFailed', 'NotificationCancelled',
  ]),
  project(db, event) {
    const updated_at = event.recordedAt;
    const updateAlert = (alertId: string, values: Partial<AlertsTable>) =>
      db.updateTable('alerts').set({ ...values, updated_at }).where('id', '=', alertId).compile();
    const updateNotification = (deliveryId: string, values: Partial<AlertNotificationsTable>) =>
      db.updateTable('alert_notifications').set({ ...values, updated_at }).where('delivery_id', '=', deliveryId).compile();
    switch (event.type) {
      case 'AlertTriggered': {
        const e = event.data;
        return [
          db
            .insertInto('alerts')
            .values({
              id: e.alertId, team_id: e.teamId, flow_id: e.flowId, flow_version: e.flowVersion, status: 'triggered',
              summary: e.summary, details: json(e.details), severity: e.severity, dedup_key: e.dedupKey, source: e.source,
              dedup_count: 0, step_count: e.steps.length, repeat: e.repeat, epoch: 0, exhausted: false,
              triggered_at: new Date(e.triggeredAt), updated_at,
            })
            .onConflict((conflict) => conflict.column('id').doNothing())
            .compile(),
        ];
      }
      case 'AlertDeduplicated':
        return [updateAlert(event.data.alertId, { dedup_count: event.data.dedupCount })];
      case 'EscalationStepScheduled':
        return [updateAlert(event.data.alertId, { epoch: event.data.epoch, next_escalation_at: new Date(event.data.dueAt) })];
      case 'EscalationStepFired':
        return [
          updateAlert(event.data.alertId, { current_loop: event.data.loop, current_step: event.data.step, next_escalation_at: null }),
        ];
      case 'EscalationExhausted':
        return [updateAlert(event.data.alertId, { exhausted: true, next_escalation_at: null })];
      case 'AlertAcknowledged':
        return [
          updateAlert(event.data.alertId, {
            status: 'acknowledged', epoch: event.data.epoch, acknowledged_at: new Date(event.data.at),
            acknowledged_by: event.data.by, next_escalation_at: null,
          }),
        ];
      case 'AlertResolved':
        return [
          updateAlert(event.data.alertId, {
            status: 'resolved', epoch: event.data.epoch, resolved_at: new Date(event.data.at), resolved_by: event.data.by,
            next_escalation_at: null,
          }),
        ];
      case 'AlertEscalatedManually':
        return [updateAlert(event.data.alertId, { epoch: event.data.epoch })];
      case 'NotificationRequested': {
        const e = event.data;
        return [
          db
            .insertInto('alert_notifications')
            .values({
              delivery_id: e.deliveryId, alert_id: e.alertId, team_id: event.metadata.teamId, loop: e.loop, step: e.step,
              node_id: e.nodeId, target: json(e.target), status: 'pending', attempts: 0, requested_at: new Date(e.requestedAt),
              updated_at,
            })
            .onConflict((conflict) => conflict.column('delivery_id').doNothing())
            .compile(),
        ];
      }
      case 'NotificationAttemptStarted':
        return [updateNotification(event.data.deliveryId, { status: 'in_flight', attempts: event.data.attempt })];
      case 'NotificationDelivered':
        return [updateNotification(event.data.deliveryId, { status: 'delivered', delivered_at: new Date(event.data.deliveredAt), last_error: null })];
      case 'NotificationFailed':
        return [
          updateNotification(event.data.deliveryId, {
            status: event.data.retryAt ? 'retry_scheduled' : 'abandoned',
            last_error: event.data.error,
          }),
        ];
      case 'NotificationCancelled':
        return [updateNotification(event.data.deliveryId, { status: 'cancelled' })];
      default:
        return [];
    }
  },
});

/**
 * What the engine still owes: the pending step of every open alert and every notification awaiting an attempt.
 * The sweeper re-drives anything here that is overdue, so a lost broker message only delays work.
 */
export const inFlightProjection = defineProjection<{ pending_escalations: PendingEscalationsTable; pending_deliveries: PendingDeliveriesTable }, AlertEvent>({
  name: 'in-flight',
  tables: ['pending_escalations', 'pending_deliveries'],
  handles: new Set([
    'EscalationStepScheduled', 'EscalationStepFired', 'EscalationExhausted', 'AlertAcknowledged', 'AlertResolved',
    'NotificationRequested', 'NotificationAttemptStarted', 'NotificationDelivered', 'NotificationFailed', 'NotificationCancelled',
  ]),
  project(db, event) {
    const deliveryDue = (deliveryId: string, alertId: string, dueAt: Date) =>
      db
        .insertInto('pending_deliveries')
        .values({ delivery_id: deliveryId, alert_id: alertId, due_at: dueAt })
        .onConflict((conflict) => conflict.column('delivery_id').doUpdateSet({ due_at: dueAt }))
        .compile();
    const deliveryDone = (deliveryId: string) => db.deleteFrom('pending_deliveries').where('delivery_id', '=', deliveryId).compile();
    const escalationDone = (alertId: string) => db.deleteFrom('pending_escalations').where('alert_id', '=', alertId).compile();
    switch (event.type) {
      case 'EscalationStepScheduled': {
        const e = event.data;
        const row = { team_id: event.metadata.teamId ?? '', epoch: e.epoch, loop: e.loop, step: e.step, due_at: new Date(e.dueAt) };
        return [
          db
            .insertInto('pending_escalations')
            .values({ alert_id: e.alertId, ...row })
            .onConflict((conflict) => conflict.column('alert_id').doUpdateSet(row))
            .compile(),
        ];
      }
      case 'EscalationStepFired':
        // Only the step that fired is done; a later schedule in the same batch has already replaced the row.
        return [
          db
            .deleteFrom('pending_escalations')
            .where('alert_id', '=', event.data.alertId)
            .where('epoch', '=', event.data.epoch)
            .where('loop', '=', event.data.loop)
            .where('step', '=', event.data.step)
            .compile(),
        ];
      case 'EscalationExhausted':
      case 'AlertAcknowledged':
      case 'AlertResolved':
        return [escalationDone(event.data.alertId)];
      case 'NotificationRequested':
        return [deliveryDue(event.data.deliveryId, event.data.alertId, new Date(event.data.requestedAt))];
      case 'NotificationAttemptStarted':
        // If no outcome is recorded within the lease (crash mid-send), the sweeper hands the delivery back.
        return [
          deliveryDue(event.data.deliveryId, event.data.alertId, new Date(Date.parse(event.data.startedAt) + ATTEMPT_LEASE_MS)),
        ];
      case 'NotificationFailed':
        return [event.data.retryAt ? deliveryDue(event.data.deliveryId, event.data.alertId, new Date(event.data.retryAt)) : deliveryDone(event.data.deliveryId)];
      case 'NotificationDelivered':
      case 'NotificationCancelled':
        return [deliveryDone(event.data.deliveryId)];
      default:
        return [];
    }
  },
});
