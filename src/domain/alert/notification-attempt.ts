import type { NodeTarget } from '../flow/node.js';
import type { OpenAlertState } from './decider.js';

/** One attempt of a notification as a channel sends it: where it goes, and what it says about the alert. */
export interface NotificationAttemptPlan {
  alertId: string;
  teamId: string;
  deliveryId: string;
  attempt: number;
  loop: number;
  step: number;
  target: NodeTarget;
  /** The body a webhook target receives: ours, or an incoming-webhook message (Slack, Mattermost). */
  format: 'json' | 'slack';
  alert: { id: string; summary: string; details: unknown; severity: string; status: OpenAlertState['status'] };
}

/** The plan of an attempt the alert has started (its state includes the notification). */
export function notificationAttemptPlan(state: OpenAlertState, deliveryId: string, attempt: number): NotificationAttemptPlan {
  const notification = state.notifications[deliveryId]!;
  return {
    alertId: state.alertId,
    teamId: state.teamId,
    deliveryId,
    attempt,
    loop: notification.loop,
    step: notification.step,
    target: notification.target,
    format: notification.format,
    alert: { id: state.alertId, summary: state.summary, details: state.details, severity: state.severity, status: state.status },
  };
}
