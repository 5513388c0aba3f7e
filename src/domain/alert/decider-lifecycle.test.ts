import { describe, it } from 'vitest';
import { deciderSpecification } from '../decider-specification.js';
import type { FlowNode } from '../flow/node.js';
import type { AlertCommand } from './commands.js';
import { alertDecider, MAX_SNOOZE_MINUTES } from './decider.js';
import { type AlertEvent, type AlertEventOf, MAX_NOTE_LENGTH, MAX_NOTES_PER_ALERT } from './events.js';

const spec = deciderSpecification(alertDecider);
const alertId = '00000000-0000-4000-8000-00000000a1e7';
const teamId = '00000000-0000-4000-8000-000000000001';
const otherTeamId = '00000000-0000-4000-8000-000000000002';
const flowId = '00000000-0000-4000-8000-00000000f10a';
const noteId = '00000000-0000-4000-8000-00000000e001';
const deliveryId = '00000000-0000-4000-8000-00000000d001';

const node = (n: number, delaySeconds: number): FlowNode => ({
  id: `00000000-0000-4000-8000-00000000000${n}`,
  name: `step ${n}`,
  delaySeconds,
  target: { type: 'webhook', url: `https://hooks.example.com/${n}` },
  retry: { maxAttempts: 3, backoffSeconds: 10 },
});
const steps = [node(1, 30), node(2, 60)];
const t0 = new Date('2026-01-01T00:00:00.000Z');
const after = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const iso = (seconds: number) => after(seconds).toISOString();
const by = 'user:00000000-0000-4000-8000-00000000aaaa';

const triggered = (ackTimeoutMinutes?: number): AlertEventOf<'AlertTriggered'> => ({
  type: 'AlertTriggered',
  data: {
    alertId, teamId, flowId, flowVersion: 2, summary: 'disk full', details: null, severity: 'critical', dedupKey: null,
    source: 'api', steps, repeat: 0, ...(ackTimeoutMinutes ? { ackTimeoutMinutes } : {}), triggeredAt: iso(0),
  },
});
const scheduled = (step: number, dueSeconds: number, epoch = 0): AlertEvent => ({
  type: 'EscalationStepScheduled',
  data: { alertId, epoch, loop: 0, step, dueAt: iso(dueSeconds) },
});
const acknowledged = (epoch: number, atSeconds: number): AlertEvent => ({ type: 'AlertAcknowledged', data: { alertId, epoch, by, at: iso(atSeconds) } });
const timeoutScheduled = (epoch: number, dueSeconds: number): AlertEvent => ({
  type: 'AcknowledgementTimeoutScheduled',
  data: { alertId, epoch, dueAt: iso(dueSeconds) },
});
const snoozed = (epoch: number, atSeconds: number, untilSeconds: number): AlertEvent => ({
  type: 'AlertSnoozed',
  data: { alertId, epoch, by, at: iso(atSeconds), until: iso(untilSeconds) },
});
const resolved = (epoch: number, atSeconds: number): AlertEvent => ({ type: 'AlertResolved', data: { alertId, epoch, by, at: iso(atSeconds) } });

const acknowledge = (nowSeconds: number): AlertCommand => ({ type: 'AcknowledgeAlert', teamId, by, now: after(nowSeconds) });
const resolve = (nowSeconds: number): AlertCommand => ({ type: 'ResolveAlert', teamId, by, now: after(nowSeconds) });
const snooze = (minutes: number, nowSeconds: number, team = teamId): AlertCommand => ({ type: 'SnoozeAlert', teamId: team, by, minutes, now: after(nowSeconds) });
const reTrigger = (epoch: number, nowSeconds: number): AlertCommand => ({ type: 'ReTriggerAlert', alertId, epoch, now: after(nowSeconds) });
const note = (text: string, team = teamId): AlertCommand => ({ type: 'AddAlertNote', teamId: team, noteId, text, by, now: after(7) });

/** A flow with a 5-minute acknowledgement timeout, acknowledged at 10 s: it lapses at 310 s. */
const acknowledgedWithTimeout = [triggered(5), scheduled(0, 30), acknowledged(1, 10), timeoutScheduled(1, 310)];

describe('alert lifecycle', () => {
  describe('acknowledgement timeout', () => {
    it('the flow timeout is pinned into the alert when it is triggered', () =>
      spec.given([])
        .when({
          type: 'TriggerAlert', alertId, teamId, flow: { flowId, version: 2, repeat: 0, nodes: steps, ackTimeoutMinutes: 5 },
          summary: 'disk full', details: null, severity: 'critical', dedupKey: null, source: 'api', now: t0,
        })
        .then([triggered(5), scheduled(0, 30)]));

    it('acknowledging starts the clock in the same epoch', () =>
      spec.given([triggered(5), scheduled(0, 30)]).when(acknowledge(10)).then([acknowledged(1, 10), timeoutScheduled(1, 310)]));

    it('without a timeout, acknowledging starts no clock', () =>
      spec.given([triggered(), scheduled(0, 30)]).when(acknowledge(10)).then([acknowledged(1, 10)]));

    it('when the time is up the alert is triggered again and escalates from the first step, its delay counted from then', () =>
      spec.given(acknowledgedWithTimeout).when(reTrigger(1, 311)).then([
        { type: 'AcknowledgementTimedOut', data: { alertId, epoch: 2, at: iso(311) } },
        scheduled(0, 341, 2),
      ]));

    it('a new acknowledgement restarts the clock, and the old timer is a no-op', () => {
      spec.given(acknowledgedWithTimeout).when(acknowledge(100)).then([acknowledged(2, 100), timeoutScheduled(2, 400)]);
      spec.given([...acknowledgedWithTimeout, acknowledged(2, 100), timeoutScheduled(2, 400)]).when(reTrigger(1, 311)).thenNothingHappens();
    });

    it('acknowledging an alert that timed out starts the clock again', () =>
      spec.given([
        ...acknowledgedWithTimeout,
        { type: 'AcknowledgementTimedOut', data: { alertId, epoch: 2, at: iso(311) } },
        scheduled(0, 341, 2),
      ])
        .when(acknowledge(320))
        .then([acknowledged(3, 320), timeoutScheduled(3, 620)]));

    it('resolving cancels the clock: its timer is a no-op', () =>
      spec.given([...acknowledgedWithTimeout, resolved(2, 100)]).when(reTrigger(1, 311)).thenNothingHappens());

    it('a timer that already fired is a no-op the second time', () =>
      spec.given([...acknowledgedWithTimeout, { type: 'AcknowledgementTimedOut', data: { alertId, epoch: 2, at: iso(311) } }, scheduled(0, 341, 2)])
        .when(reTrigger(1, 312))
        .thenNothingHappens());

    it('a timer of another epoch is a no-op', () => spec.given(acknowledgedWithTimeout).when(reTrigger(0, 311)).thenNothingHappens());

    it('a timer for a triggered alert is a no-op', () => spec.given([triggered(5), scheduled(0, 30)]).when(reTrigger(0, 311)).thenNothingHappens());

    it('re-acknowledging an alert without a timeout stays a no-op', () =>
      spec.given([triggered(), scheduled(0, 30), acknowledged(1, 10)]).when(acknowledge(20)).thenNothingHappens());
  });

  describe('snooze', () => {
    it('snoozing a triggered alert acknowledges it until then, cancelling pending rule deliveries', () =>
      spec.given([
        triggered(), scheduled(0, 30),
        { type: 'EscalationStepFired', data: { alertId, epoch: 0, loop: 0, step: 0, nodeId: steps[0]!.id, dueAt: iso(30), firedAt: iso(30), lagMs: 0 } },
        {
          type: 'NotificationRequested',
          data: { alertId, deliveryId, loop: 0, step: 0, nodeId: steps[0]!.id, target: steps[0]!.target, retry: steps[0]!.retry, requestedAt: iso(30), notBefore: iso(600) },
        },
        scheduled(1, 90),
      ])
        .when(snooze(60, 40))
        .then([
          acknowledged(1, 40),
          snoozed(1, 40, 3640),
          { type: 'NotificationCancelled', data: { alertId, deliveryId, reason: 'acknowledged', at: iso(40) } },
        ]));

    it('snoozing an acknowledged alert replaces its acknowledgement timeout', () => {
      spec.given(acknowledgedWithTimeout).when(snooze(30, 20)).then([snoozed(2, 20, 1820)]);
      spec.given([...acknowledgedWithTimeout, snoozed(2, 20, 1820)]).when(reTrigger(1, 311)).thenNothingHappens();
    });

    it('when the snooze ends the alert is triggered again from the first step', () =>
      spec.given([triggered(), scheduled(0, 30), acknowledged(1, 40), snoozed(1, 40, 3640)]).when(reTrigger(1, 3640)).then([
        { type: 'SnoozeEnded', data: { alertId, epoch: 2, at: iso(3640) } },
        scheduled(0, 3670, 2),
      ]));

    it('snoozed then resolved: the end of the snooze does nothing', () => {
      const snoozedAlert = [triggered(), scheduled(0, 30), acknowledged(1, 40), snoozed(1, 40, 3640)];
      spec.given(snoozedAlert).when(resolve(100)).then([resolved(2, 100)]);
      spec.given([...snoozedAlert, resolved(2, 100)]).when(reTrigger(1, 3640)).thenNothingHappens();
    });

    it('snoozing again moves the end, and the first end is a no-op', () =>
      spec.given([triggered(), scheduled(0, 30), acknowledged(1, 40), snoozed(1, 40, 3640), snoozed(2, 50, 650)])
        .when(reTrigger(1, 3640))
        .thenNothingHappens());

    it('a snooze lasts from 1 minute to 7 days', () => {
      const open = [triggered(), scheduled(0, 30)];
      spec.given(open).when(snooze(0, 40)).thenThrows('invalid', 'invalid_snooze');
      spec.given(open).when(snooze(MAX_SNOOZE_MINUTES + 1, 40)).thenThrows('invalid', 'invalid_snooze');
      spec.given(open).when(snooze(1.5, 40)).thenThrows('invalid', 'invalid_snooze');
      spec.given(open).when(snooze(MAX_SNOOZE_MINUTES, 40)).then([acknowledged(1, 40), snoozed(1, 40, 40 + MAX_SNOOZE_MINUTES * 60)]);
    });

    it('a resolved alert cannot be snoozed', () =>
      spec.given([triggered(), scheduled(0, 30), resolved(1, 10)]).when(snooze(5, 20)).thenThrows('conflict', 'alert_resolved'));

    it("another team's alert does not exist", () =>
      spec.given([triggered(), scheduled(0, 30)]).when(snooze(5, 20, otherTeamId)).thenThrows('not_found'));
  });

  describe('notes', () => {
    const added = (text: string): AlertEvent => ({ type: 'AlertNoteAdded', data: { alertId, noteId, text, by, at: iso(7) } });

    it('records the note with its author and time', () =>
      spec.given([triggered(), scheduled(0, 30)]).when(note('rolled back the deploy')).then([added('rolled back the deploy')]));

    it('a resolved alert still takes notes', () =>
      spec.given([triggered(), scheduled(0, 30), resolved(1, 5)]).when(note('root cause: full disk')).then([added('root cause: full disk')]));

    it('a note has 1 to 10,000 characters', () => {
      const open = [triggered(), scheduled(0, 30)];
      spec.given(open).when(note('   ')).thenThrows('invalid', 'invalid_note');
      spec.given(open).when(note('x'.repeat(MAX_NOTE_LENGTH + 1))).thenThrows('invalid', 'invalid_note');
      spec.given(open).when(note('x'.repeat(MAX_NOTE_LENGTH))).then([added('x'.repeat(MAX_NOTE_LENGTH))]);
    });

    it(`an alert holds at most ${MAX_NOTES_PER_ALERT} notes`, () => {
      const notes = Array.from({ length: MAX_NOTES_PER_ALERT }, () => added('again'));
      spec.given([triggered(), scheduled(0, 30), ...notes.slice(1)]).when(note('last')).then([added('last')]);
      spec.given([triggered(), scheduled(0, 30), ...notes]).when(note('one more')).thenThrows('conflict', 'too_many_notes');
    });

    it("another team's alert does not exist", () =>
      spec.given([triggered(), scheduled(0, 30)]).when(note('hello', otherTeamId)).thenThrows('not_found'));
  });
});
