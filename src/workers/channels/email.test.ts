import { randomUUID } from 'node:crypto';
import { attemptPlan } from '../../../test/support/attempt-plan.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationAttemptPlan } from '../../domain/alert/notification-attempt.js';
import { createMailer, type Mailer } from '../../infra/mailer.js';
import { type SmtpSink, startSmtpSink } from '../../../test/support/smtp-sink.js';
import { waitFor } from '../../../test/support/wait.js';
import type { MemberAddress } from './channel.js';
import { createEmailChannel } from './email.js';

const planFor = (target: NotificationAttemptPlan['target'], change: Partial<NotificationAttemptPlan> = {}) =>
  attemptPlan(target, {
    alert: { summary: 'Checkout latency above 2 s', details: { p99Ms: 2350, region: 'eu-west-1' }, severity: 'error' },
    ...change,
  });

describe('email channel', () => {
  let sink: SmtpSink;
  let mailer: Mailer;
  beforeAll(async () => {
    sink = await startSmtpSink();
    mailer = createMailer({ smtpUrl: sink.url, smtpFrom: 'AlertOps <pager@alertops.test>' })!;
  });
  afterAll(async () => {
    mailer?.close();
    await sink?.stop();
  });

  const noUsers = async (): Promise<MemberAddress> => ({ status: 'no_address' });
  const actionLinkOf = (plan: NotificationAttemptPlan) => `https://alertops.test/a/token-of-${plan.deliveryId}`;

  it('mails the address with severity and summary in the subject, details and its action link in the text', async () => {
    const plan = planFor({ type: 'email', email: 'oncall@example.com' });

    const outcome = await createEmailChannel({ mailer, memberEmail: noUsers, actionLinkOf }).send(plan);

    expect(outcome).toEqual({ delivered: true, detail: `accepted for oncall@example.com as <${plan.deliveryId}@alertops>` });
    const mail = await waitFor('the page at the SMTP sink', () => sink.messages.find((m) => m.messageId === `<${plan.deliveryId}@alertops>`));
    expect(mail.to).toEqual(['oncall@example.com']);
    expect(mail.from).toBe('pager@alertops.test');
    expect(mail.subject).toBe('[AlertOps ERROR] Checkout latency above 2 s');
    expect(mail.text).toContain('Checkout latency above 2 s');
    expect(mail.text).toContain('"p99Ms": 2350');
    expect(mail.text).toContain(`https://alertops.test/a/token-of-${plan.deliveryId}`);
  });

  it('sends every retry of a delivery under the same Message-ID', async () => {
    const plan = planFor({ type: 'email', email: 'retry@example.com' });
    const channel = createEmailChannel({ mailer, memberEmail: noUsers, actionLinkOf });

    await channel.send(plan);
    await channel.send({ ...plan, attempt: 2 });

    const received = await waitFor('both attempts at the sink', () => {
      const found = sink.messages.filter((m) => m.to.includes('retry@example.com'));
      return found.length === 2 && found;
    });
    expect(received.map((m) => m.messageId)).toEqual([`<${plan.deliveryId}@alertops>`, `<${plan.deliveryId}@alertops>`]);
  });

  it("pages a team member at the e-mail address the users read model has for them, asking within the alert's team", async () => {
    const userId = randomUUID();
    const plan = planFor({ type: 'user', userId });
    const asked: [string, string][] = [];
    const memberEmail = async (teamId: string, id: string): Promise<MemberAddress> => (
      asked.push([teamId, id]), id === userId ? { status: 'member', email: 'ada@example.com' } : { status: 'not_member' }
    );

    const outcome = await createEmailChannel({ mailer, memberEmail, actionLinkOf }).send(plan);

    expect(outcome).toMatchObject({ delivered: true });
    expect(asked).toEqual([[plan.teamId, userId]]);
    await waitFor('the page to ada', () => sink.messages.some((m) => m.to.includes('ada@example.com')));
  });

  it('a member with no known e-mail address is a failed attempt that may be retried', async () => {
    const userId = randomUUID();

    const outcome = await createEmailChannel({ mailer, memberEmail: noUsers, actionLinkOf }).send(planFor({ type: 'user', userId }));

    expect(outcome).toEqual({ delivered: false, error: `no e-mail address known for user ${userId}`, permanent: false });
  });

  it('a user who is no longer a member of the team is never mailed: the attempt fails for good, saying so', async () => {
    const userId = randomUUID();
    const mailsBefore = sink.messages.length;

    const outcome = await createEmailChannel({ mailer, memberEmail: async () => ({ status: 'not_member' }), actionLinkOf }).send(planFor({ type: 'user', userId }));

    expect(outcome).toEqual({ delivered: false, error: `user ${userId} is no longer a member of the team`, permanent: true });
    expect(sink.messages).toHaveLength(mailsBefore);
  });

  it('fails for good, saying why, when SMTP_URL is not set', async () => {
    const outcome = await createEmailChannel({ mailer: null, memberEmail: noUsers, actionLinkOf }).send(planFor({ type: 'email', email: 'x@example.com' }));

    expect(outcome).toEqual({ delivered: false, error: 'email channel disabled: SMTP_URL is not set', permanent: true });
  });

  it('a recipient the SMTP server refuses with 5xx is a permanent failure', async () => {
    const refusing = await startSmtpSink({ rejectRecipient: (address) => address === 'gone@example.com' });
    const refusingMailer = createMailer({ smtpUrl: refusing.url, smtpFrom: 'AlertOps <pager@alertops.test>' });
    try {
      const outcome = await createEmailChannel({ mailer: refusingMailer, memberEmail: noUsers, actionLinkOf }).send(planFor({ type: 'email', email: 'gone@example.com' }));

      expect(outcome).toMatchObject({ delivered: false, permanent: true });
      expect(outcome.delivered === false && outcome.error).toMatch(/^SMTP: .*550.*mailbox gone@example.com unavailable/);
      expect(refusing.messages).toHaveLength(0);
    } finally {
      refusingMailer?.close();
      await refusing.stop();
    }
  });

  it('an unreachable SMTP server is a failed attempt that may be retried', async () => {
    const stopped = await startSmtpSink();
    await stopped.stop();
    const unreachable = createMailer({ smtpUrl: stopped.url, smtpFrom: 'AlertOps <pager@alertops.test>' });

    const outcome = await createEmailChannel({ mailer: unreachable, memberEmail: noUsers, actionLinkOf }).send(planFor({ type: 'email', email: 'x@example.com' }));
    unreachable?.close();

    expect(outcome).toMatchObject({ delivered: false, permanent: false });
    expect(outcome.delivered === false && outcome.error).toMatch(/^SMTP: .*ECONNREFUSED/);
  });
});
