import type { Selectable } from 'kysely';
import type { AlertEventOf } from '../domain/alert/events.js';
import { defineProjection } from './projection.js';
import type { IncidentAlertsTable, IncidentPagesTable, IncidentStepLagsTable } from './read-models.js';

/**
 * What incident analytics count, by team and time: each alert's trigger, first acknowledgement and resolution; each
 * page and whether it reached anyone; each step's lag. Pages and steps take their flow from the alert's row.
 */
export const incidentAnalyticsProjection = defineProjection<
  {
    incident_alerts: Selectable<IncidentAlertsTable>;
    incident_pages: Selectable<IncidentPagesTable>;
    incident_step_lags: Selectable<IncidentStepLagsTable>;
  },
  AlertEventOf<'AlertTriggered' | 'AlertAcknowledged' | 'AlertResolved' | 'EscalationStepFired' | 'NotificationRequested' | 'NotificationDelivered' | 'NotificationFailed'>
>()({
  name: 'incident-analytics',
  keys: { incident_alerts: ['alert_id'], incident_pages: ['delivery_id'], incident_step_lags: ['alert_id', 'epoch', 'loop', 'step'] },
  handlers: {
    AlertTriggered({ incident_alerts }, { data: e }) {
      incident_alerts.put({
        alert_id: e.alertId, team_id: e.teamId, flow_id: e.flowId, triggered_at: new Date(e.triggeredAt), acknowledged_at: null, resolved_at: null,
      });
    },
    AlertAcknowledged({ incident_alerts }, { data }) {
      // Time to acknowledge counts to the first acknowledgement; a later one (after a timeout or a snooze) does not move it.
      if (incident_alerts.get({ alert_id: data.alertId })?.acknowledged_at === null) {
        incident_alerts.update({ alert_id: data.alertId }, { acknowledged_at: new Date(data.at) });
      }
    },
    AlertResolved({ incident_alerts }, { data }) {
      incident_alerts.update({ alert_id: data.alertId }, { resolved_at: new Date(data.at) });
    },
    EscalationStepFired({ incident_alerts, incident_step_lags }, { data: e }) {
      const alert = incident_alerts.get({ alert_id: e.alertId });
      if (!alert) return;
      incident_step_lags.put({
        alert_id: e.alertId, epoch: e.epoch, loop: e.loop, step: e.step, team_id: alert.team_id, flow_id: alert.flow_id,
        fired_at: new Date(e.firedAt), lag_ms: e.lagMs,
      });
    },
    NotificationRequested({ incident_alerts, incident_pages }, { data: e }) {
      const alert = incident_alerts.get({ alert_id: e.alertId });
      if (!alert) return;
      incident_pages.put({
        delivery_id: e.deliveryId, alert_id: e.alertId, team_id: alert.team_id, flow_id: alert.flow_id,
        user_id: e.recipient?.userId ?? (e.target.type === 'user' ? e.target.userId : null), requested_at: new Date(e.requestedAt), undelivered: false,
      });
    },
    NotificationFailed({ incident_pages }, { data }) {
      if (data.retryAt === null) incident_pages.update({ delivery_id: data.deliveryId }, { undelivered: true });
    },
    // A page resent after it was abandoned may still get through.
    NotificationDelivered({ incident_pages }, { data }) {
      incident_pages.update({ delivery_id: data.deliveryId }, { undelivered: false });
    },
  },
});
