import { describe, expect, it } from 'vitest';
import { fold } from '../decider.js';
import { deciderSpecification } from '../decider-specification.js';
import type { FlowNode } from '../flow/node.js';
import type { AlertCommand, PagingRule } from './commands.js';
import { alertDecider } from './decider.js';
import type { AlertEvent, AlertEventOf } from './events.js';

const spec = deciderSpecification(alertDecider);
const alertId = '00000000-0000-4000-8000-00000000a1e7';
const teamId = '00000000-0000-4000-8000-000000000001';
const otherTeamId = '00000000-0000-4000-8000-000000000002';
const flowId = '00000000-0000-4000-8000-00000000f10a';
const delivery1 = '00000000-0000-4000-8000-00000000d001';
const delivery2 = '00000000-0000-4000-8000-00000000d002';

const node = (n: number, delaySeconds: number, maxAttempts = 3): FlowNode => ({
  id: `00000000-0000-4000-8000-00000000000${n}`,
  name: `step ${n}`,
  delaySeconds,
  target: { type: 'webhook', url: `https://hooks.example.com/${n}` },
  retry: { maxAttempts, backoffSeconds: 10 },
});
const twoSteps = [node(1, 0), node(2, 60)];
const t0 = new Date('2026-01-01T00:00:00.000Z');
const after = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const iso = (seconds: number) => after(seconds).toISOString();

const trigger = (overrides: Partial<Extract<AlertCommand, { type: 'TriggerAlert' }>> = {}): AlertCommand => ({
  type: 'TriggerAlert',
  alertId,
  teamId,
  flow: { flowId, version: 3, repeat: 0, nodes: twoSteps },
  summary: 'disk full',
  details: { host: 'db1' },
  severity: 'critical',
  dedupKey: null,
  source: 'api',
  now: t0,
  ...overrides,
});

const triggered = (steps = twoSteps, repeat = 0, dedupKey: string | null = null): AlertEventOf<'AlertTriggered'> => ({
  type: 'AlertTriggered',
  data: {
    alertId, teamId, flowId, flowVersion: 3, summary: 'disk full', details: { host: 'db1' }, severity: 'critical',
    dedupKey, source: 'api', steps, repeat, triggeredAt: iso(0),
  },
});
const scheduled = (step: number, dueSeconds: number, epoch = 0, loop = 0): AlertEvent => ({
  type: 'EscalationStepScheduled',
  data: { alertId, epoch, loop, step, dueAt: iso(dueSeconds) },
});
const fire = (step: number, nowSeconds: number, epoch = 0, loop = 0, deliveryId = delivery1): AlertCommand => ({
  type: 'FireEscalationStep', alertId, epoch, loop, step, deliveryId, now: after(nowSeconds),
});
const fired = (step: number, dueSeconds: number, firedSeconds: number, epoch = 0, loop = 0): AlertEvent => ({
  type: 'EscalationStepFired',
  data: {
    alertId, epoch, loop, step, nodeId: twoSteps[step]!.id, dueAt: iso(dueSeconds), firedAt: iso(firedSeconds),
    lagMs: (firedSeconds - dueSeconds) * 1000,
  },
});
const requested = (step: number, atSeconds: number, deliveryId = delivery1, loop = 0): AlertEvent => ({
  type: 'NotificationRequested',
  data: {
    alertId, deliveryId, loop, step, nodeId: twoSteps[step]!.id, target: twoSteps[step]!.target,
    retry: twoSteps[step]!.retry, requestedAt: iso(atSeconds),
  },
});
const sender = 'sender-a';
const started = (attempt: number, atSeconds: number, deliveryId = delivery1, by: string | null = sender): AlertEvent => ({
  type: 'NotificationAttemptStarted',
  data: { alertId, deliveryId, attempt, startedAt: iso(atSeconds), sender: by, leaseEndsAt: iso(atSeconds + 30) },
});
const failed = (attempt: number, atSeconds: number, retryAtSeconds: number | null, deliveryId = delivery1): AlertEvent => ({
  type: 'NotificationFailed',
  data: { alertId, deliveryId, attempt, error: 'HTTP 500', failedAt: iso(atSeconds), retryAt: retryAtSeconds === null ? null : iso(retryAtSeconds) },
});
const acknowledged: AlertEvent = { type: 'AlertAcknowledged', data: { alertId, epoch: 1, by: 'user:u1', at: iso(5) } };
const resolved: AlertEvent = { type: 'AlertResolved', data: { alertId, epoch: 1, by: 'user:u1', at: iso(5) } };
const firstStepFired = [triggered(), scheduled(0, 0), fired(0, 0, 0), requested(0, 0), scheduled(1, 60)];

describe('alert decider', () => {
  describe('triggering', () => {
    it('pins the flow steps and schedules the first step after its delay', () =>
      spec.given([]).when(trigger({ flow: { flowId, version: 3, repeat: 0, nodes: [node(1, 30), node(2, 60)] } })).then([
        triggered([node(1, 30), node(2, 60)]),
        scheduled(0, 30),
      ]));

    it('refuses a flow without steps', () =>
      spec.given([]).when(trigger({ flow: { flowId, version: 1, repeat: 0, nodes: [] } })).thenThrows('invalid', 'flow_empty'));

    it('folds a trigger with the same dedup key into the open alert, counted', () =>
      spec.given([triggered(twoSteps, 0, 'k1'), scheduled(0, 0)]).when(trigger({ dedupKey: 'k1', summary: 'still full', now: after(3) })).then([
        { type: 'AlertDeduplicated', data: { alertId, dedupCount: 1, summary: 'still full', severity: 'critical', at: iso(3) } },
      ]));

    it('folds into an acknowledged alert too', () =>
      spec.given([triggered(twoSteps, 0, 'k1'), scheduled(0, 0), acknowledged]).when(trigger({ dedupKey: 'k1' })).then([
        { type: 'AlertDeduplicated', data: { alertId, dedupCount: 1, summary: 'disk full', severity: 'critical', at: iso(0) } },
      ]));

    const repeatedTo = (dedupCount: number): AlertEvent => ({
      type: 'AlertDeduplicated', data: { alertId, dedupCount, summary: 'disk full', severity: 'critical', at: iso(dedupCount) },
    });
    const fiveRepeats = [1, 2, 3, 4, 5].map(repeatedTo);

    it('beyond the first five repeats, a repeat decides nothing: it is counted outside the stream', () =>
      spec.given([triggered(twoSteps, 0, 'k1'), scheduled(0, 0), ...fiveRepeats]).when(trigger({ dedupKey: 'k1' })).thenNothingHappens());

    it('records a summary of counted repeats with the latest summary text', () =>
      spec.given([triggered(twoSteps, 0, 'k1'), scheduled(0, 0), ...fiveRepeats])
        .when({ type: 'RecordRepeats', dedupCount: 40, summary: 'still full', severity: 'error', at: after(300) })
        .then([{ type: 'AlertDeduplicated', data: { alertId, dedupCount: 40, summary: 'still full', severity: 'error', at: iso(300) } }]));

    it('a summary that adds nothing (retried, or overtaken) records nothing', () =>
      spec.given([triggered(twoSteps, 0, 'k1'), scheduled(0, 0), ...fiveRepeats, repeatedTo(40)])
        .when({ type: 'RecordRepeats', dedupCount: 40, summary: 'still full', severity: 'error', at: after(300) })
        .thenNothingHappens());

    it('records the final count of an alert resolved meanwhile', () =>
      spec.given([triggered(twoSteps, 0, 'k1'), scheduled(0, 0), ...fiveRepeats, resolved])
        .when({ type: 'RecordRepeats', dedupCount: 7, summary: 'disk full', severity: 'critical', at: after(9) })
        .then([{ type: 'AlertDeduplicated', data: { alertId, dedupCount: 7, summary: 'disk full', severity: 'critical', at: iso(9) } }]));

    it('does not fold into a resolved alert', () =>
      spec.given([triggered(twoSteps, 0, 'k1'), scheduled(0, 0), resolved]).when(trigger({ dedupKey: 'k1' })).thenThrows('conflict', 'alert_closed'));

    it('refuses to trigger an existing alert id without a dedup key', () =>
      spec.given([triggered(), scheduled(0, 0)]).when(trigger()).thenThrows('conflict', 'alert_exists'));
  });

  describe('firing a step that pages a schedule', () => {
    const scheduleId = '00000000-0000-4000-8000-0000000005c0';
    const [alice, bob] = ['00000000-0000-4000-8000-00000000a11c', '00000000-0000-4000-8000-0000000000b0'];
    const onCallStep: FlowNode = { ...node(1, 0), target: { type: 'schedule', scheduleId } };
    const steps = [onCallStep, node(2, 60)];
    const fireWith = (onCall: { userIds: string[]; reason: string | null }): AlertCommand => ({ ...fire(0, 1), onCall, rules: {} } as AlertCommand);
    const firedWith = (onCall: { userIds: string[]; reason: string | null }): AlertEvent => {
      const event = fired(0, 0, 1) as AlertEventOf<'EscalationStepFired'>;
      return { ...event, data: { ...event.data, nodeId: onCallStep.id, onCall: { scheduleId, ...onCall } } };
    };
    const requestFor = (deliveryId: string, userId: string): AlertEvent => ({
      type: 'NotificationRequested',
      data: {
        alertId, deliveryId, loop: 0, step: 0, nodeId: onCallStep.id, target: { type: 'user', userId }, retry: onCallStep.retry, requestedAt: iso(1),
      },
    });

    it('pages each user on call, recording who they were; the first under the command\'s delivery id', () =>
      spec.given([triggered(steps), scheduled(0, 0)]).when(fireWith({ userIds: [alice, bob], reason: null })).then([
        firedWith({ userIds: [alice, bob], reason: null }),
        requestFor(delivery1, alice),
        requestFor('26808918-49db-50f4-a619-ef59114eea7f', bob),
        scheduled(1, 60),
      ]));

    it('without its on-call lookup, a schedule step decides nothing', () =>
      spec.given([triggered(steps), scheduled(0, 0)]).when(fire(0, 1)).thenNothingHappens());

    it('nobody on call: pages nobody, says why, and makes the next step due at once', () =>
      spec.given([triggered(steps), scheduled(0, 0)]).when(fireWith({ userIds: [], reason: 'nobody on call' })).then([
        firedWith({ userIds: [], reason: 'nobody on call' }),
        scheduled(1, 1),
      ]));
  });

  describe('firing a step that pages a person with notification rules', () => {
    const ada = '00000000-0000-4000-8000-0000000000ad';
    const [mailMethod, hookMethod] = ['00000000-0000-4000-8000-0000000000c1', '00000000-0000-4000-8000-0000000000c2'];
    const personStep: FlowNode = { ...node(1, 0), target: { type: 'user', userId: ada } };
    const steps = [personStep, node(2, 600)];
    const rules: PagingRule[] = [
      { contactMethodId: mailMethod, delaySeconds: 0, target: { type: 'email', email: 'pager@example.com' }, format: 'json' },
      { contactMethodId: hookMethod, delaySeconds: 300, target: { type: 'webhook', url: 'https://hooks.example.com/ada' }, format: 'slack' },
    ];
    const fireWith = (rulesOf: Record<string, PagingRule[]>): AlertCommand => ({ ...fire(0, 1), rules: rulesOf } as AlertCommand);
    const base = { alertId, loop: 0, step: 0, nodeId: personStep.id, retry: personStep.retry, requestedAt: iso(1) };
    const byRules = (events: AlertEvent[]) => events.filter((event) => event.type === 'NotificationRequested');

    it('without the rules looked up, a step that pages a person decides nothing', () =>
      spec.given([triggered(steps), scheduled(0, 0)]).when(fire(0, 1)).thenNothingHappens());

    it('a person without rules is paged at their account now, as before', () =>
      spec.given([triggered(steps), scheduled(0, 0)]).when(fireWith({})).then([
        fired(0, 0, 1),
        { type: 'NotificationRequested', data: { ...base, deliveryId: delivery1, target: { type: 'user', userId: ada } } },
        scheduled(1, 600),
      ]));

    it('each rule is a delivery of its own, due at the fire time plus its delay', () => {
      const events = alertDecider.decide(fireWith({ [ada]: rules }), fold(alertDecider, [triggered(steps), scheduled(0, 0)]));
      const [mail, hook] = byRules(events) as AlertEventOf<'NotificationRequested'>[];
      expect(mail!.data).toMatchObject({ target: rules[0]!.target, recipient: { userId: ada, contactMethodId: mailMethod } });
      expect(mail!.data.notBefore).toBeUndefined();
      expect(hook!.data).toMatchObject({ target: rules[1]!.target, format: 'slack', notBefore: iso(301), recipient: { userId: ada, contactMethodId: hookMethod } });
      expect(new Set([mail!.data.deliveryId, hook!.data.deliveryId, delivery1]).size).toBe(3);
      // Deterministic: the same firing names the same deliveries.
      expect(byRules(alertDecider.decide(fireWith({ [ada]: rules }), fold(alertDecider, [triggered(steps), scheduled(0, 0)])))).toEqual([mail, hook]);
    });

    it('each person a schedule step finds on call is paged by their own rules, or at their account without any', () => {
      const scheduleId = '00000000-0000-4000-8000-0000000005c0';
      const bob = '00000000-0000-4000-8000-0000000000b0';
      const onCallSteps = [{ ...personStep, target: { type: 'schedule' as const, scheduleId } }, node(2, 600)];
      const command = { ...fire(0, 1), onCall: { userIds: [ada, bob], reason: null }, rules: { [ada]: rules } } as AlertCommand;
      const requests = byRules(alertDecider.decide(command, fold(alertDecider, [triggered(onCallSteps), scheduled(0, 0)]))) as AlertEventOf<'NotificationRequested'>[];
      expect(requests.map((request) => [request.data.target, request.data.recipient?.userId ?? null])).toEqual([
        [rules[0]!.target, ada],
        [rules[1]!.target, ada],
        [{ type: 'user', userId: bob }, null],
      ]);
    });

    it('a delayed rule is not attempted before it is due', () => {
      const history = [triggered(steps), scheduled(0, 0), ...alertDecider.decide(fireWith({ [ada]: rules }), fold(alertDecider, [triggered(steps), scheduled(0, 0)]))];
      const hook = byRules(history.slice(2))[1] as AlertEventOf<'NotificationRequested'>;
      const start = (seconds: number): AlertCommand => ({ type: 'StartNotificationAttempt', deliveryId: hook.data.deliveryId, now: after(seconds), sender, deadSenders: [] });
      spec.given(history).when(start(2)).thenNothingHappens();
      spec.given(history).when(start(301)).then([
        { type: 'NotificationAttemptStarted', data: { alertId, deliveryId: hook.data.deliveryId, attempt: 1, startedAt: iso(301), sender, leaseEndsAt: iso(331) } },
      ]);
    });

    it('acknowledging cancels the rules not yet due, and leaves the sent ones alone', () => {
      const history = [triggered(steps), scheduled(0, 0), ...alertDecider.decide(fireWith({ [ada]: rules }), fold(alertDecider, [triggered(steps), scheduled(0, 0)]))];
      const hook = byRules(history.slice(2))[1] as AlertEventOf<'NotificationRequested'>;
      spec.given(history).when({ type: 'AcknowledgeAlert', teamId, by: `user:${ada}`, now: after(30) }).then([
        { type: 'AlertAcknowledged', data: { alertId, epoch: 1, by: `user:${ada}`, at: iso(30) } },
        { type: 'NotificationCancelled', data: { alertId, deliveryId: hook.data.deliveryId, reason: 'acknowledged', at: iso(30) } },
      ]);
    });
  });

  describe('firing', () => {
    it('fires the pending step: records due and fire time, requests the notification, schedules the next from the due time', () =>
      spec.given([triggered(), scheduled(0, 0)]).when(fire(0, 0.04)).then([
        fired(0, 0, 0.04),
        requested(0, 0.04),
        scheduled(1, 60),
      ]));

    it('a timer for an acknowledged alert fires nothing', () =>
      spec.given([triggered(), scheduled(0, 0), acknowledged]).when(fire(0, 1)).thenNothingHappens());

    it('a timer for a resolved alert fires nothing', () =>
      spec.given([triggered(), scheduled(0, 0), resolved]).when(fire(0, 1)).thenNothingHappens());

    it('a duplicate timer fires nothing the second time', () =>
      spec.given(firstStepFired).when(fire(0, 0.5)).thenNothingHappens());

    it('a timer of an older epoch fires nothing', () =>
      spec.given([triggered(), scheduled(0, 0), scheduled(0, 0, 1)]).when(fire(0, 0, 0)).thenNothingHappens());

    it('a timer for a step that is not pending fires nothing', () =>
      spec.given([triggered(), scheduled(0, 0)]).when(fire(1, 0)).thenNothingHappens());

    it('exhausts after the last step when the flow does not repeat', () =>
      spec.given(firstStepFired).when(fire(1, 60, 0, 0, delivery2)).then([
        fired(1, 60, 60),
        requested(1, 60, delivery2),
        { type: 'EscalationExhausted', data: { alertId, loops: 1, at: iso(60) } },
      ]));

    it('loops back to the first step when the flow repeats', () =>
      spec.given([triggered(twoSteps, 1), scheduled(0, 0), fired(0, 0, 0), requested(0, 0), scheduled(1, 60)])
        .when(fire(1, 60, 0, 0, delivery2))
        .then([fired(1, 60, 60), requested(1, 60, delivery2), scheduled(0, 60, 0, 1)]));

    it('a repeat-1 flow exhausts after its second loop', () =>
      spec.given([
        triggered(twoSteps, 1), scheduled(0, 0), fired(0, 0, 0), requested(0, 0), scheduled(1, 60),
        fired(1, 60, 60), requested(1, 60, delivery2), scheduled(0, 60, 0, 1),
        fired(0, 60, 60, 0, 1), requested(0, 60, '00000000-0000-4000-8000-00000000d003', 1), scheduled(1, 120, 0, 1),
      ])
        .when(fire(1, 120, 0, 1, '00000000-0000-4000-8000-00000000d004'))
        .then([
          fired(1, 120, 120, 0, 1),
          requested(1, 120, '00000000-0000-4000-8000-00000000d004', 1),
          { type: 'EscalationExhausted', data: { alertId, loops: 2, at: iso(120) } },
        ]));
  });

  describe('acknowledge, resolve, escalate', () => {
    it('acknowledging bumps the epoch so pending timers become stale', () =>
      spec.given(firstStepFired).when({ type: 'AcknowledgeAlert', teamId, by: 'user:u1', now: after(5) }).then([acknowledged]));

    it('acknowledging twice is a no-op', () =>
      spec.given([...firstStepFired, acknowledged]).when({ type: 'AcknowledgeAlert', teamId, by: 'user:u1', now: after(6) }).thenNothingHappens());

    it('resolving an acknowledged alert closes it', () =>
      spec.given([...firstStepFired, acknowledged]).when({ type: 'ResolveAlert', teamId, by: 'user:u1', now: after(7) }).then([
        { type: 'AlertResolved', data: { alertId, epoch: 2, by: 'user:u1', at: iso(7) } },
      ]));

    it('resolving twice is a no-op', () =>
      spec.given([...firstStepFired, resolved]).when({ type: 'ResolveAlert', teamId, by: 'user:u1', now: after(7) }).thenNothingHappens());

    it("another team's alert does not exist", () =>
      spec.given(firstStepFired).when({ type: 'AcknowledgeAlert', teamId: otherTeamId, by: 'user:u9', now: after(5) }).thenThrows('not_found'));

    it('an unknown alert does not exist', () =>
      spec.given([]).when({ type: 'ResolveAlert', teamId, by: 'user:u1', now: after(5) }).thenThrows('not_found'));

    it('escalate-now makes the pending step due at once under a new epoch', () =>
      spec.given(firstStepFired).when({ type: 'EscalateAlert', teamId, by: 'user:u1', now: after(10) }).then([
        { type: 'AlertEscalatedManually', data: { alertId, epoch: 1, by: 'user:u1', at: iso(10) } },
        scheduled(1, 10, 1),
      ]));

    it('escalate-now on a step that is already due is a no-op', () =>
      spec.given([...firstStepFired, { type: 'AlertEscalatedManually', data: { alertId, epoch: 1, by: 'user:u1', at: iso(10) } }, scheduled(1, 10, 1)])
        .when({ type: 'EscalateAlert', teamId, by: 'user:u1', now: after(10) })
        .thenNothingHappens());

    it('an acknowledged alert cannot be escalated', () =>
      spec.given([...firstStepFired, acknowledged]).when({ type: 'EscalateAlert', teamId, by: 'user:u1', now: after(10) }).thenThrows('conflict', 'alert_not_triggered'));
  });

  describe('notifications', () => {
    const start = (nowSeconds: number, deliveryId = delivery1, deadSenders: string[] = [], by = sender): AlertCommand => ({
      type: 'StartNotificationAttempt', deliveryId, now: after(nowSeconds), sender: by, deadSenders,
    });
    const outcome = (attempt: number, nowSeconds: number, delivered: boolean, permanent = false): AlertCommand => ({
      type: 'RecordNotificationOutcome',
      deliveryId: delivery1,
      attempt,
      now: after(nowSeconds),
      outcome: delivered ? { delivered: true, detail: 'HTTP 200' } : { delivered: false, error: 'HTTP 500', permanent },
    });

    it('records the attempt before sending (persist, then deliver)', () =>
      spec.given(firstStepFired).when(start(1)).then([started(1, 1)]));

    it('a delivered notification is not attempted again', () =>
      spec.given([...firstStepFired, started(1, 1), { type: 'NotificationDelivered', data: { alertId, deliveryId: delivery1, attempt: 1, deliveredAt: iso(1), detail: 'HTTP 200' } }])
        .when(start(2))
        .thenNothingHappens());

    it('an attempt cut off mid-send is recorded as unknown and resent under the same delivery id once its lease ran out', () =>
      spec.given([...firstStepFired, started(1, 1)]).when(start(31)).then([
        { type: 'NotificationOutcomeUnknown', data: { alertId, deliveryId: delivery1, attempt: 1, policy: 'resend', at: iso(31) } },
        started(2, 31),
      ]));

    it('an attempt still within its lease is not started again (another sender has it)', () =>
      spec.given([...firstStepFired, started(1, 1)]).when(start(30, delivery1, [], 'sender-b')).thenNothingHappens());

    it('an attempt whose sender has stopped is resolved and resent at once, within its lease', () =>
      spec.given([...firstStepFired, started(1, 1)]).when(start(3, delivery1, ['sender-a'], 'sender-b')).then([
        { type: 'NotificationOutcomeUnknown', data: { alertId, deliveryId: delivery1, attempt: 1, policy: 'resend', at: iso(3) } },
        started(2, 3, delivery1, 'sender-b'),
      ]));

    it('a sender never takes itself for stopped', () =>
      spec.given([...firstStepFired, started(1, 1)]).when(start(3, delivery1, ['sender-a'], 'sender-a')).thenNothingHappens());

    it('an attempt of a sender that named no liveness waits out its lease', () =>
      spec.given([...firstStepFired, started(1, 1, delivery1, null)]).when(start(3, delivery1, ['sender-a'], 'sender-b')).thenNothingHappens());

    it('a notification of an acknowledged alert is cancelled instead of sent', () =>
      spec.given([...firstStepFired, acknowledged]).when(start(6)).then([
        { type: 'NotificationCancelled', data: { alertId, deliveryId: delivery1, reason: 'acknowledged', at: iso(6) } },
      ]));

    it('a retry that arrives before its time is ignored', () =>
      spec.given([...firstStepFired, started(1, 1), failed(1, 1, 11)]).when(start(5)).thenNothingHappens());

    it('a failure retries after the node backoff, doubling each time', () =>
      spec.given([...firstStepFired, started(1, 1), failed(1, 1, 11), started(2, 11)]).when(outcome(2, 12, false)).then([failed(2, 12, 32)]));

    it('an outcome for another attempt than the open one is ignored', () =>
      spec.given([...firstStepFired, started(1, 1), failed(1, 1, 11), started(2, 11)]).when(outcome(1, 12, true)).thenNothingHappens());

    it('success is recorded with its attempt', () =>
      spec.given([...firstStepFired, started(1, 1)]).when(outcome(1, 2, true)).then([
        { type: 'NotificationDelivered', data: { alertId, deliveryId: delivery1, attempt: 1, deliveredAt: iso(2), detail: 'HTTP 200' } },
      ]));

    it('abandoning after the last attempt makes the next step due at once', () =>
      spec.given([...firstStepFired, started(1, 1), failed(1, 1, 11), started(2, 11), failed(2, 11, 31), started(3, 31)])
        .when(outcome(3, 32, false))
        .then([failed(3, 32, null), scheduled(1, 32, 1)]));

    it('a permanent failure abandons at once', () =>
      spec.given([...firstStepFired, started(1, 1)]).when(outcome(1, 2, false, true)).then([failed(1, 2, null), scheduled(1, 2, 1)]));
  });
});
