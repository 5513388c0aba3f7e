import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, type SignedUpUser, signUpWithTeam, type TeamOwner } from '../support/accounts.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';
import { waitFor } from '../support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * Membership is checked when a `user` step is sent, not only when the flow names them: someone removed from the team
 * after the flow was written (or after the alert was triggered) is never paged, and the escalation moves on at once.
 */
describe('a user target who has left the team', () => {
  let app: TestApp;
  let smtp: SmtpSink;
  let receiver: WebhookReceiver;
  let owner: TeamOwner;
  let leaver: SignedUpUser;
  let flowId: string;

  const MEMBER_STEP_DELAY_SECONDS = 5;
  const NEXT_STEP_DELAY_SECONDS = 60;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    receiver = await startWebhookReceiver();
    app = await startTestApp({ SMTP_URL: smtp.url });
    owner = await signUpWithTeam(app.http, 'On call');
    leaver = await addMember(app.http, owner, 'member');
    const flow = await app.http.post(
      `/teams/${owner.teamId}/flows`,
      {
        name: 'member first',
        nodes: [
          { name: 'member', delaySeconds: MEMBER_STEP_DELAY_SECONDS, target: { type: 'user', userId: leaver.userId } },
          { name: 'fallback', delaySeconds: NEXT_STEP_DELAY_SECONDS, target: { type: 'webhook', url: `${receiver.url}/fallback` } },
        ],
      },
      { token: owner.token },
    );
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    flowId = flow.body.id;
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.stop();
    await smtp?.stop();
  });

  const mailsTo = (email: string, summary: string) => smtp.messages.filter((mail) => mail.to.includes(email) && mail.subject.includes(summary));
  const alertDetail = async (alertId: string) => (await app.http.get(`/teams/${owner.teamId}/alerts/${alertId}`, { token: owner.token })).body;

  async function trigger(summary: string): Promise<string> {
    const alert = await app.http.post(`/teams/${owner.teamId}/alerts`, { flowId, summary }, { token: owner.token });
    expect(alert.status, JSON.stringify(alert.body)).toBe(201);
    return alert.body.id;
  }

  it('pages the member while they belong to the team (the control)', async () => {
    const alertId = await trigger('control page');
    await waitFor('the page to the member', () => mailsTo(leaver.email, 'control page').length === 1, { timeoutMs: 20_000 });
    const detail = await waitFor('the notification to be delivered', async () => {
      const body = await alertDetail(alertId);
      return body.notifications[0]?.status === 'delivered' && body;
    });
    expect(detail.notifications[0]).toMatchObject({ step: 0, target: { type: 'user', userId: leaver.userId }, attempts: 1 });
    expect((await app.http.post(`/teams/${owner.teamId}/alerts/${alertId}/resolve`, undefined, { token: owner.token })).status).toBe(200);
  });

  it('removed after the alert was triggered, they are not paged: the attempt is abandoned saying why and the next step is due at once', async () => {
    const alertId = await trigger('after leaving');
    const triggeredAt = Date.now();
    const removal = await app.http.delete(`/teams/${owner.teamId}/members/${leaver.userId}`, { token: owner.token });
    expect(removal.status).toBe(204);
    // The removal must land before the member's step is due, or this would test something else.
    expect(Date.now() - triggeredAt).toBeLessThan(MEMBER_STEP_DELAY_SECONDS * 1000);

    const fallback = await waitFor('the next step to page the webhook', () => receiver.requests.find((request) => request.path === '/fallback'), {
      timeoutMs: 20_000,
    });
    // Due at once when the member's notification was abandoned, not after its own 60 s delay.
    expect(fallback.receivedAt.getTime() - triggeredAt).toBeLessThan((MEMBER_STEP_DELAY_SECONDS + 10) * 1000);
    expect((fallback.json as { alert: { id: string } }).alert.id).toBe(alertId);

    const detail = await waitFor('both notifications to settle', async () => {
      const body = await alertDetail(alertId);
      return body.notifications.length === 2 && body.notifications[1].status === 'delivered' && body;
    });
    expect(detail.notifications[0]).toMatchObject({
      step: 0,
      status: 'abandoned',
      attempts: 1,
      lastError: `user ${leaver.userId} is no longer a member of the team`,
    });
    expect(mailsTo(leaver.email, 'after leaving')).toEqual([]);

    const timeline = (await app.http.get(`/teams/${owner.teamId}/alerts/${alertId}/timeline`, { token: owner.token })).body as {
      type: string;
      data: Record<string, unknown>;
    }[];
    const abandoned = timeline.find((event) => event.type === 'NotificationFailed')!;
    expect(abandoned.data).toMatchObject({ retryAt: null, error: `user ${leaver.userId} is no longer a member of the team` });
    const rescheduled = timeline.filter((event) => event.type === 'EscalationStepScheduled' && event.data.step === 1);
    expect(rescheduled.map((event) => event.data.epoch)).toEqual([0, 1]);
    expect(rescheduled[1]!.data.dueAt).toBe(abandoned.data.failedAt);
  });
});
