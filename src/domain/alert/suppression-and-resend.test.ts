import { describe, it } from 'vitest';
import { deciderSpecification } from '../decider-specification.js';
import type { FlowNode } from '../flow/node.js';
import type { AlertCommand } from './commands.js';
import { alertDecider } from './decider.js';
import type { AlertEvent } from './events.js';

const spec = deciderSpecification(alertDecider);
const alertId = '00000000-0000-4000-8000-00000000a1e7';
const teamId = '00000000-0000-4000-8000-000000000001';
const otherTeamId = '00000000-0000-4000-8000-000000000002';
const flowId = '00000000-0000-4000-8000-00000000f10a';
const windowId = '00000000-0000-4000-8000-0000000000a1';
const otherWindowId = '00000000-0000-4000-8000-0000000000a2';
const delivery1 = '00000000-0000-4000-8000-00000000d001';
const unknownDelivery = '00000000-0000-4000-8000-00000000d009';

const node = (n: number, delaySeconds: number): FlowNode => ({
  id: `00000000-0000-4000-8000-00000000000${n}`,
  name: `step ${n}`,
  delaySeconds,
  target: { type: 'webhook', url: `https://hooks.example.com/${n}` },
  retry: { maxAttempts: 2, backoffSeconds: 10 },
});
const steps = [node(1, 30), node(2, 60)];
const t0 = new Date('2026-01-01T00:00:00.000Z');
const after = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const iso = (seconds: number) => after(seconds).toISOString();

const trigger = (suppression: { windowId: string; until: Date } | null): AlertCommand => ({
  type: 'TriggerAlert', alertId, teamId, flow: { flowId, version: 1, repeat: 0, nodes: steps }, summary: 'disk full', details: null,
  severity: 'critical', dedupKey: null, source: 'api', now: t0, suppression,
});
const triggered: AlertEvent = {
  type: 'AlertTriggered',
  data: { alertId, teamId, flowId, flowVersion: 1, summary: 'disk full', details: null, severity: 'critical', dedupKey: null, source: 'api', steps, repeat: 0, triggeredAt: iso(0) },
};
const suppressedUntil = (seconds: number): AlertEvent => ({ type: 'AlertSuppressed', data: { alertId, windowId, until: iso(seconds) } });
const scheduled = (step: number, dueSeconds: number, epoch = 0): AlertEvent => ({ type: 'EscalationStepScheduled', data: { alertId, epoch, loop: 0, step, dueAt: iso(dueSeconds) } });
const suppressedAlert = [triggered, suppressedUntil(3600), scheduled(0, 3630)];

const requested: AlertEvent = {
  type: 'NotificationRequested',
  data: { alertId, deliveryId: delivery1, loop: 0, step: 0, nodeId: steps[0]!.id, target: steps[0]!.target, retry: steps[0]!.retry, requestedAt: iso(30) },
};
const firstFired: AlertEvent[] = [
  triggered,
  scheduled(0, 30),
  { type: 'EscalationStepFired', data: { alertId, epoch: 0, loop: 0, step: 0, nodeId: steps[0]!.id, dueAt: iso(30), firedAt: iso(30), lagMs: 0 } },
  requested,
  scheduled(1, 90),
];
const started = (attempt: number, atSeconds: number): AlertEvent => ({
  type: 'NotificationAttemptStarted',
  data: { alertId, deliveryId: delivery1, attempt, startedAt: iso(atSeconds), sender: 'sender-a', leaseEndsAt: iso(atSeconds + 30) },
});
const failed = (attempt: number, atSeconds: number, retryAtSeconds: number | null): AlertEvent => ({
  type: 'NotificationFailed',
  data: { alertId, deliveryId: delivery1, attempt, error: 'HTTP 500', failedAt: iso(atSeconds), retryAt: retryAtSeconds === null ? null : iso(retryAtSeconds) },
});
const abandoned = [...firstFired, started(1, 30), failed(1, 31, 41), started(2, 41), failed(2, 42, null)];
const resend = (nowSeconds: number, team = teamId, deliveryId = delivery1): AlertCommand => ({
  type: 'ResendNotification', teamId: team, deliveryId, by: 'user:u1', now: after(nowSeconds),
});
const resendRequested = (atSeconds: number): AlertEvent => ({ type: 'NotificationResendRequested', data: { alertId, deliveryId: delivery1, by: 'user:u1', at: iso(atSeconds) } });

describe('alert decider: maintenance windows', () => {
  it('an alert triggered in a window is recorded as suppressed and its first step is due when the window ends', () =>
    spec.given([]).when(trigger({ windowId, until: after(3600) })).then(suppressedAlert));

  it('an alert triggered outside any window escalates at once', () =>
    spec.given([]).when(trigger(null)).then([triggered, scheduled(0, 30)]));

  it('a window that has already ended suppresses nothing', () =>
    spec.given([]).when(trigger({ windowId, until: t0 })).then([triggered, scheduled(0, 30)]));

  it('the first step firing after the window ends records that the suppression ended', () =>
    spec
      .given(suppressedAlert)
      .when({ type: 'FireEscalationStep', alertId, epoch: 0, loop: 0, step: 0, deliveryId: delivery1, now: after(3630) })
      .then([
        { type: 'SuppressionEnded', data: { alertId, epoch: 0, at: iso(3630) } },
        { type: 'EscalationStepFired', data: { alertId, epoch: 0, loop: 0, step: 0, nodeId: steps[0]!.id, dueAt: iso(3630), firedAt: iso(3630), lagMs: 0 } },
        { ...requested, data: { ...requested.data, requestedAt: iso(3630) } } as AlertEvent,
        scheduled(1, 3690),
      ]));

  it('a window deleted early starts the escalation now, under a new epoch', () =>
    spec
      .given(suppressedAlert)
      .when({ type: 'EndSuppression', windowId, now: after(100) })
      .then([{ type: 'SuppressionEnded', data: { alertId, epoch: 1, at: iso(100) } }, scheduled(0, 130, 1)]));

  it('the timer of the window end is stale once the window was deleted', () =>
    spec
      .given([...suppressedAlert, { type: 'SuppressionEnded', data: { alertId, epoch: 1, at: iso(100) } }, scheduled(0, 130, 1)])
      .when({ type: 'FireEscalationStep', alertId, epoch: 0, loop: 0, step: 0, deliveryId: delivery1, now: after(3630) })
      .thenNothingHappens());

  it('ending the suppression twice, or by another window, does nothing', () => {
    spec
      .given([...suppressedAlert, { type: 'SuppressionEnded', data: { alertId, epoch: 1, at: iso(100) } }, scheduled(0, 130, 1)])
      .when({ type: 'EndSuppression', windowId, now: after(200) })
      .thenNothingHappens();
    spec.given(suppressedAlert).when({ type: 'EndSuppression', windowId: otherWindowId, now: after(100) }).thenNothingHappens();
  });

  it('escalating a suppressed alert now overrides its window', () =>
    spec
      .given(suppressedAlert)
      .when({ type: 'EscalateAlert', teamId, by: 'user:u1', now: after(100) })
      .then([{ type: 'AlertEscalatedManually', data: { alertId, epoch: 1, by: 'user:u1', at: iso(100) } }, scheduled(0, 100, 1)]));

  it('a repeat of a suppressed alert is folded into it, whatever the window', () =>
    spec
      .given([{ ...triggered, data: { ...triggered.data, dedupKey: 'disk' } } as AlertEvent, suppressedUntil(3600), scheduled(0, 3630)])
      .when({ ...trigger({ windowId: otherWindowId, until: after(7200) }), dedupKey: 'disk', now: after(60) } as AlertCommand)
      .then([{ type: 'AlertDeduplicated', data: { alertId, dedupCount: 1, summary: 'disk full', severity: 'critical', at: iso(60) } }]));

  it('an acknowledged suppressed alert stays quiet when its window is deleted', () =>
    spec
      .given([...suppressedAlert, { type: 'AlertAcknowledged', data: { alertId, epoch: 1, by: 'user:u1', at: iso(50) } }])
      .when({ type: 'EndSuppression', windowId, now: after(100) })
      .thenNothingHappens());
});

describe('alert decider: resending undelivered pages', () => {
  it('an abandoned page is sent again under its delivery id', () => spec.given(abandoned).when(resend(60)).then([resendRequested(60)]));

  it('a page waiting for its retry may be resent at once', () =>
    spec.given([...firstFired, started(1, 30), failed(1, 31, 41)]).when(resend(35)).then([resendRequested(35)]));

  it('a resent page gets new attempts with the same delivery id', () =>
    spec
      .given([...abandoned, resendRequested(60)])
      .when({ type: 'StartNotificationAttempt', deliveryId: delivery1, now: after(61), sender: 'sender-a', deadSenders: [] })
      .then([started(3, 61)]));

  it('a resent page that fails again is retried with the full budget', () =>
    spec
      .given([...abandoned, resendRequested(60), started(3, 61)])
      .when({ type: 'RecordNotificationOutcome', deliveryId: delivery1, attempt: 3, outcome: { delivered: false, error: 'HTTP 500', permanent: false }, now: after(62) })
      .then([failed(3, 62, 72)]));

  it('a delivered page cannot be resent', () =>
    spec
      .given([...firstFired, started(1, 30), { type: 'NotificationDelivered', data: { alertId, deliveryId: delivery1, attempt: 1, deliveredAt: iso(31), detail: null } }])
      .when(resend(60))
      .thenThrows('conflict', 'notification_delivered'));

  it('a page still being sent is not resent', () =>
    spec.given([...firstFired, started(1, 30)]).when(resend(35)).thenThrows('conflict', 'notification_not_undelivered'));

  it('a page of an acknowledged alert is not resent', () =>
    spec
      .given([...abandoned, { type: 'AlertAcknowledged', data: { alertId, epoch: 1, by: 'user:u1', at: iso(50) } }])
      .when(resend(60))
      .thenThrows('conflict', 'alert_not_triggered'));

  it("another team's alert, or a delivery it does not have, is not found", () => {
    spec.given(abandoned).when(resend(60, otherTeamId)).thenThrows('not_found');
    spec.given(abandoned).when(resend(60, teamId, unknownDelivery)).thenThrows('not_found', 'notification_not_found');
  });
});
