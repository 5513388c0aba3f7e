import { randomUUID } from 'node:crypto';
import type { NotificationAttemptPlan } from '../../src/domain/alert/notification-attempt.js';

type AlertOfPlan = NotificationAttemptPlan['alert'];

/** The first attempt of a step-0 page to `target`, for a new alert; `change` replaces fields, `alert` merges. */
export function attemptPlan(
  target: NotificationAttemptPlan['target'],
  { alert, ...change }: Partial<Omit<NotificationAttemptPlan, 'alert'>> & { alert?: Partial<Omit<AlertOfPlan, 'id'>> } = {},
): NotificationAttemptPlan {
  const alertId = change.alertId ?? randomUUID();
  return {
    alertId,
    teamId: randomUUID(),
    deliveryId: randomUUID(),
    attempt: 1,
    loop: 0,
    step: 0,
    target,
    format: 'json',
    ...change,
    alert: { id: alertId, summary: 'disk full', details: null, severity: 'error', status: 'triggered', ...alert },
  };
}
