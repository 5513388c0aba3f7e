import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerNames, type TimerMessage } from '../src/infra/broker-messages.js';
import { publishTimers } from '../src/infra/delay-cascade.js';
import { addMember, signUpWithTeam, type SignedUpUser, type TeamOwner } from './support/accounts.js';
import { startTestApp, type TestApp } from './support/app.js';
import { timersInCascade } from './support/delay-cascade.js';
import { waitFor } from './support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

type TimelineEntry = { type: string; actor: string; at: string; data: any };

describe('alert lifecycle end to end: acknowledgement timeout, snooze, notes', () => {
  let app: TestApp;
  let receiver: WebhookReceiver;
  let owner: TeamOwner;
  let member: SignedUpUser;
  let viewer: SignedUpUser;
  let stranger: TeamOwner;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    app = await startTestApp();
    owner = await signUpWithTeam(app.http, 'Payments');
    member = await addMember(app.http, owner, 'member');
    viewer = await addMember(app.http, owner, 'viewer');
    stranger = await signUpWithTeam(app.http, 'Other team');
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.stop();
  });

  const pagesTo = (name: string) => receiver.requests.filter((request) => request.path === `/${name}`);
  const alertPath = (alertId: string, rest = '') => `/teams/${owner.teamId}/alerts/${alertId}${rest}`;

  async function createFlow(hook: string, extra: Record<string, unknown> = {}): Promise<string> {
    const nodes = [
      { name: 'first', delaySeconds: 0, target: { type: 'webhook', url: `${receiver.url}/${hook}` }, retry: { maxAttempts: 1, backoffSeconds: 0 } },
      { name: 'second', delaySeconds: 3600, target: { type: 'webhook', url: `${receiver.url}/${hook}-second` } },
    ];
    const response = await app.http.post(`/teams/${owner.teamId}/flows`, { name: `flow ${hook}`, nodes, ...extra }, { token: owner.token });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body.id;
  }

  async function triggerAndPage(flowId: string, hook: string): Promise<string> {
    const response = await app.http.post(`/teams/${owner.teamId}/alerts`, { flowId, summary: `${hook} is down` }, { token: owner.token });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    await waitFor(`the first page to ${hook}`, () => pagesTo(hook).length === 1);
    return response.body.id;
  }

  async function timeline(alertId: string): Promise<TimelineEntry[]> {
    const response = await app.http.get(alertPath(alertId, '/timeline'), { token: owner.token });
    expect(response.status).toBe(200);
    return response.body;
  }

  const lastOf = async (alertId: string, type: string) => (await timeline(alertId)).filter((event) => event.type === type).at(-1);

  /**
   * The acknowledgement timeout and the snooze are minutes long; these send their timer through the real delay cascade
   * as the relay does, due in a second, so the fenced path the relay's timer takes is exercised without the wait.
   */
  async function sendThroughCascade(timers: TimerMessage[]): Promise<void> {
    const connection = await amqp.connect(app.config.amqpUrl);
    try {
      const channel = await connection.createConfirmChannel();
      await publishTimers(channel, brokerNames(app.config.amqpPrefix), timers);
    } finally {
      await connection.close();
    }
  }
  const dueInASecond = () => new Date(Date.now() + 1000).toISOString();


  describe('acknowledgement timeout', () => {
    it('is set on the flow (1 to 1440 minutes), changed and removed', async () => {
      const tooLong = await app.http.post(`/teams/${owner.teamId}/flows`, { name: 'x', ackTimeoutMinutes: 1441 }, { token: owner.token });
      expect(tooLong.status).toBe(400);
      expect(tooLong.body.errors).toContainEqual({ path: 'body.ackTimeoutMinutes', message: expect.any(String) });

      const flowId = await createFlow('settings', { ackTimeoutMinutes: 15 });
      const flowPath = `/teams/${owner.teamId}/flows/${flowId}`;
      expect((await app.http.get(flowPath, { token: owner.token })).body.ackTimeoutMinutes).toBe(15);
      expect((await app.http.patch(flowPath, { ackTimeoutMinutes: 0 }, { token: owner.token })).status).toBe(400);
      expect((await app.http.patch(flowPath, { ackTimeoutMinutes: 30 }, { token: owner.token })).status).toBe(200);
      expect((await app.http.get(flowPath, { token: owner.token })).body.ackTimeoutMinutes).toBe(30);
      expect((await app.http.patch(flowPath, { ackTimeoutMinutes: null }, { token: owner.token })).status).toBe(200);
      expect((await app.http.get(flowPath, { token: owner.token })).body.ackTimeoutMinutes).toBeNull();
    });

    it('an alert acknowledged and not resolved in time is triggered again and pages from the first step', async () => {
      const flowId = await createFlow('ack-timeout', { ackTimeoutMinutes: 10 });
      const alertId = await triggerAndPage(flowId, 'ack-timeout');
      const before = await timersInCascade(app);

      const ack = await app.http.post(alertPath(alertId, '/acknowledge'), undefined, { token: member.token });
      expect(ack.body).toMatchObject({ status: 'acknowledged', changed: true });
      const scheduled = await lastOf(alertId, 'AcknowledgementTimeoutScheduled');
      const acknowledgedAt = Date.parse((await lastOf(alertId, 'AlertAcknowledged'))!.data.at);
      expect(Date.parse(scheduled!.data.dueAt)).toBe(acknowledgedAt + 10 * 60_000);
      const acknowledged = (await app.http.get(alertPath(alertId), { token: owner.token })).body;
      expect(acknowledged).toMatchObject({ status: 'acknowledged', ackTimeoutAt: scheduled!.data.dueAt, snoozedUntil: null });
      // The relay put the acknowledgement timeout's timer into the cascade.
      await waitFor('the timeout timer in the cascade', async () => (await timersInCascade(app)) > before);

      // Due now, as it would be after ten minutes; a duplicate and a timer of an older epoch ride along.
      const timer: TimerMessage = { kind: 'retrigger', alertId, epoch: scheduled!.data.epoch, dueAt: dueInASecond() };
      await sendThroughCascade([timer, { ...timer }, { ...timer, epoch: scheduled!.data.epoch - 1 }]);
      await waitFor('the page from the first step again', () => pagesTo('ack-timeout').length === 2, { timeoutMs: 15_000 });

      const events = await timeline(alertId);
      const timedOut = events.filter((event) => event.type === 'AcknowledgementTimedOut');
      expect(timedOut).toHaveLength(1);
      expect(timedOut[0]!.data.epoch).toBe(scheduled!.data.epoch + 1);
      const fired = events.filter((event) => event.type === 'EscalationStepFired').map((event) => [event.data.epoch, event.data.step]);
      expect(fired).toEqual([[0, 0], [scheduled!.data.epoch + 1, 0]]);
      const rescheduled = events.filter((event) => event.type === 'EscalationStepScheduled').at(-1)!;
      expect(rescheduled.data).toMatchObject({ step: 1, epoch: scheduled!.data.epoch + 1 });
      const again = (await app.http.get(alertPath(alertId), { token: owner.token })).body;
      expect(again).toMatchObject({ status: 'triggered', ackTimeoutAt: null, acknowledgedAt: null, currentStep: 0 });
      expect(again.nextEscalationAt).not.toBeNull();
    });

    it('a new acknowledgement restarts the clock, and the timer of the old one is a no-op', async () => {
      const flowId = await createFlow('ack-restart', { ackTimeoutMinutes: 10 });
      const alertId = await triggerAndPage(flowId, 'ack-restart');
      await app.http.post(alertPath(alertId, '/acknowledge'), undefined, { token: owner.token });
      const first = await lastOf(alertId, 'AcknowledgementTimeoutScheduled');
      const again = await app.http.post(alertPath(alertId, '/acknowledge'), undefined, { token: owner.token });
      expect(again.body).toMatchObject({ status: 'acknowledged', changed: true });
      const second = await lastOf(alertId, 'AcknowledgementTimeoutScheduled');
      expect(second!.data.epoch).toBeGreaterThan(first!.data.epoch);

      // A sentinel alert in the same timer message shows when the message has been acted on.
      const sentinelFlow = await createFlow('ack-sentinel', { ackTimeoutMinutes: 10 });
      const sentinel = await triggerAndPage(sentinelFlow, 'ack-sentinel');
      await app.http.post(alertPath(sentinel, '/acknowledge'), undefined, { token: owner.token });
      const sentinelTimer = await lastOf(sentinel, 'AcknowledgementTimeoutScheduled');
      await sendThroughCascade([
        { kind: 'retrigger', alertId, epoch: first!.data.epoch, dueAt: dueInASecond() },
        { kind: 'retrigger', alertId: sentinel, epoch: sentinelTimer!.data.epoch, dueAt: dueInASecond() },
      ]);
      await waitFor('the sentinel to page again', () => pagesTo('ack-sentinel').length === 2, { timeoutMs: 15_000 });
      expect((await app.http.get(alertPath(alertId), { token: owner.token })).body).toMatchObject({
        status: 'acknowledged',
        ackTimeoutAt: second!.data.dueAt,
      });
      expect(await lastOf(alertId, 'AcknowledgementTimedOut')).toBeUndefined();
    });

    it('resolving cancels it', async () => {
      const flowId = await createFlow('ack-resolve', { ackTimeoutMinutes: 10 });
      const alertId = await triggerAndPage(flowId, 'ack-resolve');
      await app.http.post(alertPath(alertId, '/acknowledge'), undefined, { token: owner.token });
      const scheduled = await lastOf(alertId, 'AcknowledgementTimeoutScheduled');
      await app.http.post(alertPath(alertId, '/resolve'), undefined, { token: owner.token });
      expect((await app.http.get(alertPath(alertId), { token: owner.token })).body).toMatchObject({ status: 'resolved', ackTimeoutAt: null });

      const sentinelFlow = await createFlow('resolve-sentinel', { ackTimeoutMinutes: 10 });
      const sentinel = await triggerAndPage(sentinelFlow, 'resolve-sentinel');
      await app.http.post(alertPath(sentinel, '/acknowledge'), undefined, { token: owner.token });
      const sentinelTimer = await lastOf(sentinel, 'AcknowledgementTimeoutScheduled');
      await sendThroughCascade([
        { kind: 'retrigger', alertId, epoch: scheduled!.data.epoch, dueAt: dueInASecond() },
        { kind: 'retrigger', alertId: sentinel, epoch: sentinelTimer!.data.epoch, dueAt: dueInASecond() },
      ]);
      await waitFor('the sentinel to page again', () => pagesTo('resolve-sentinel').length === 2, { timeoutMs: 15_000 });
      expect((await app.http.get(alertPath(alertId), { token: owner.token })).body.status).toBe('resolved');
      expect(pagesTo('ack-resolve')).toHaveLength(1);
    });
  });

  describe('snooze', () => {
    it('acknowledges the alert until then and triggers it again from the first step when the time is up', async () => {
      const flowId = await createFlow('snooze');
      const alertId = await triggerAndPage(flowId, 'snooze');
      const before = await timersInCascade(app);

      const snoozed = await app.http.post(alertPath(alertId, '/snooze'), { minutes: 30 }, { token: member.token });
      expect(snoozed.status, JSON.stringify(snoozed.body)).toBe(200);
      expect(snoozed.body).toMatchObject({ id: alertId, status: 'acknowledged' });
      const event = await lastOf(alertId, 'AlertSnoozed');
      expect(event!.actor).toBe(`user:${member.userId}`);
      expect(Date.parse(event!.data.until) - Date.parse(event!.data.at)).toBe(30 * 60_000);
      expect(snoozed.body.snoozedUntil).toBe(event!.data.until);
      expect((await timeline(alertId)).map((entry) => entry.type)).toContain('AlertAcknowledged');
      expect((await app.http.get(alertPath(alertId), { token: owner.token })).body).toMatchObject({
        status: 'acknowledged',
        snoozedUntil: event!.data.until,
        acknowledgedBy: `user:${member.userId}`,
      });
      await waitFor('the end of the snooze in the cascade', async () => (await timersInCascade(app)) > before);

      await sendThroughCascade([{ kind: 'retrigger', alertId, epoch: event!.data.epoch, dueAt: dueInASecond() }]);
      await waitFor('the page from the first step again', () => pagesTo('snooze').length === 2, { timeoutMs: 15_000 });
      const ended = await lastOf(alertId, 'SnoozeEnded');
      expect(ended!.data.epoch).toBe(event!.data.epoch + 1);
      expect((await app.http.get(alertPath(alertId), { token: owner.token })).body).toMatchObject({ status: 'triggered', snoozedUntil: null });
    });

    it('a snoozed alert resolved before the time is up stays resolved', async () => {
      const flowId = await createFlow('snooze-resolve');
      const alertId = await triggerAndPage(flowId, 'snooze-resolve');
      await app.http.post(alertPath(alertId, '/snooze'), { minutes: 5 }, { token: owner.token });
      const event = await lastOf(alertId, 'AlertSnoozed');
      await app.http.post(alertPath(alertId, '/resolve'), undefined, { token: owner.token });

      const sentinelFlow = await createFlow('snooze-sentinel');
      const sentinel = await triggerAndPage(sentinelFlow, 'snooze-sentinel');
      await app.http.post(alertPath(sentinel, '/snooze'), { minutes: 5 }, { token: owner.token });
      const sentinelEvent = await lastOf(sentinel, 'AlertSnoozed');
      await sendThroughCascade([
        { kind: 'retrigger', alertId, epoch: event!.data.epoch, dueAt: dueInASecond() },
        { kind: 'retrigger', alertId: sentinel, epoch: sentinelEvent!.data.epoch, dueAt: dueInASecond() },
      ]);
      await waitFor('the sentinel to page again', () => pagesTo('snooze-sentinel').length === 2, { timeoutMs: 15_000 });
      expect((await app.http.get(alertPath(alertId), { token: owner.token })).body).toMatchObject({ status: 'resolved', snoozedUntil: null });
      expect(await lastOf(alertId, 'SnoozeEnded')).toBeUndefined();
      expect(pagesTo('snooze-resolve')).toHaveLength(1);
    });

    it('refuses a snooze out of range (400 naming minutes), a viewer (403), another team (404), a resolved alert (409)', async () => {
      const flowId = await createFlow('snooze-refusals');
      const alertId = await triggerAndPage(flowId, 'snooze-refusals');
      for (const minutes of [0, 10_081, 1.5, '5']) {
        const response = await app.http.post(alertPath(alertId, '/snooze'), { minutes }, { token: owner.token });
        expect(response.status, `minutes: ${minutes}`).toBe(400);
        expect(response.body.errors).toContainEqual({ path: 'body.minutes', message: expect.any(String) });
      }
      expect((await app.http.post(alertPath(alertId, '/snooze'), {}, { token: owner.token })).status).toBe(400);
      expect((await app.http.post(alertPath(alertId, '/snooze'), { minutes: 5 }, { token: viewer.token })).status).toBe(403);
      expect((await app.http.post(alertPath(alertId, '/snooze'), { minutes: 5 }, { token: stranger.token })).status).toBe(404);
      const foreign = await app.http.post(`/teams/${stranger.teamId}/alerts/${alertId}/snooze`, { minutes: 5 }, { token: stranger.token });
      expect(foreign.status).toBe(404);
      expect((await app.http.post(alertPath(crypto.randomUUID(), '/snooze'), { minutes: 5 }, { token: owner.token })).status).toBe(404);
      await app.http.post(alertPath(alertId, '/resolve'), undefined, { token: owner.token });
      expect((await app.http.post(alertPath(alertId, '/snooze'), { minutes: 5 }, { token: owner.token })).status).toBe(409);
      expect(await lastOf(alertId, 'AlertSnoozed')).toBeUndefined();
    });
  });

  describe('notes', () => {
    it('appear in the alert, newest last with the count, and in its timeline with author and time', async () => {
      const flowId = await createFlow('notes');
      const alertId = await triggerAndPage(flowId, 'notes');
      const first = await app.http.post(alertPath(alertId, '/notes'), { text: 'Looking at the database' }, { token: member.token });
      expect(first.status, JSON.stringify(first.body)).toBe(201);
      expect(first.body).toMatchObject({ id: expect.any(String), text: 'Looking at the database', by: `user:${member.userId}` });
      const second = await app.http.post(alertPath(alertId, '/notes'), { text: 'Rolled back release 42' }, { token: owner.token });
      expect(second.status).toBe(201);

      const alert = (await app.http.get(alertPath(alertId), { token: viewer.token })).body;
      expect(alert.noteCount).toBe(2);
      expect(alert.notes).toEqual([
        { id: first.body.id, text: 'Looking at the database', by: `user:${member.userId}`, at: first.body.at },
        { id: second.body.id, text: 'Rolled back release 42', by: `user:${owner.userId}`, at: second.body.at },
      ]);
      const notes = (await timeline(alertId)).filter((event) => event.type === 'AlertNoteAdded');
      expect(notes.map((event) => [event.actor, event.data.text, event.data.by, event.data.at])).toEqual([
        [`user:${member.userId}`, 'Looking at the database', `user:${member.userId}`, first.body.at],
        [`user:${owner.userId}`, 'Rolled back release 42', `user:${owner.userId}`, second.body.at],
      ]);
    });

    it('a note of 10,000 characters is taken; a longer or empty one is 400 naming text; viewers 403; another team 404', async () => {
      const flowId = await createFlow('note-refusals');
      const alertId = await triggerAndPage(flowId, 'note-refusals');
      expect((await app.http.post(alertPath(alertId, '/notes'), { text: 'é'.repeat(10_000) }, { token: owner.token })).status).toBe(201);
      for (const text of ['x'.repeat(10_001), '', '   ', 42]) {
        const response = await app.http.post(alertPath(alertId, '/notes'), { text }, { token: owner.token });
        expect(response.status).toBe(400);
        expect(response.body.errors).toContainEqual({ path: 'body.text', message: expect.any(String) });
      }
      expect((await app.http.post(alertPath(alertId, '/notes'), { text: 'hi' }, { token: viewer.token })).status).toBe(403);
      expect((await app.http.post(alertPath(alertId, '/notes'), { text: 'hi' }, { token: stranger.token })).status).toBe(404);
      const foreign = await app.http.post(`/teams/${stranger.teamId}/alerts/${alertId}/notes`, { text: 'hi' }, { token: stranger.token });
      expect(foreign.status).toBe(404);
      const alert = (await app.http.get(alertPath(alertId), { token: owner.token })).body;
      expect(alert.noteCount).toBe(1);
    });
  });
});
