import type { NotificationAttemptPlan } from '../../domain/alert/notification-attempt.js';
import type { Mailer } from '../../infra/mailer.js';
import type { ActionLinkOf } from './action-links.js';
import type { MemberAddress, NotificationChannel } from './channel.js';

export interface EmailChannelOptions {
  /** null when SMTP_URL is unset: every e-mail notification then fails permanently, saying so. */
  mailer: Mailer | null;
  memberEmail: (teamId: string, userId: string) => Promise<MemberAddress>;
  actionLinkOf: ActionLinkOf;
}

/** One Message-ID per delivery, the same on every retry, so a resent page threads with (or is dropped as) the first. */
export const emailMessageId = (deliveryId: string) => `<${deliveryId}@alertops>`;

export function emailSubject(plan: NotificationAttemptPlan): string {
  return `[AlertOps ${plan.alert.severity.toUpperCase()}] ${plan.alert.summary}`.replace(/[\r\n]+/g, ' ');
}

export function emailText(plan: NotificationAttemptPlan, actionLink: string): string {
  const { alert } = plan;
  const details = alert.details === null || alert.details === undefined ? '(none)' : JSON.stringify(alert.details, null, 2);
  return [
    alert.summary,
    '',
    `Severity: ${alert.severity}`,
    `Status:   ${alert.status}`,
    `Step:     ${plan.step + 1} (round ${plan.loop + 1}), attempt ${plan.attempt}`,
    `Alert:    ${alert.id}`,
    `Team:     ${plan.teamId}`,
    '',
    'Details:',
    details,
    '',
    'To acknowledge (and stop the escalation) or resolve:',
    `  ${actionLink}`,
    '',
    `Delivery ${plan.deliveryId}`,
  ].join('\n');
}

/** Sends the page by SMTP. Recipient problems are failed outcomes; an unreachable read model throws. */
export function createEmailChannel(options: EmailChannelOptions): NotificationChannel {
  return {
    name: 'email',
    async send(plan) {
      let to: string;
      if (plan.target.type === 'email') {
        to = plan.target.email;
      } else if (plan.target.type === 'user') {
        const recipient = await options.memberEmail(plan.teamId, plan.target.userId);
        if (recipient.status === 'not_member') {
          return { delivered: false, error: `user ${plan.target.userId} is no longer a member of the team`, permanent: true };
        }
        if (recipient.status === 'no_address') {
          return { delivered: false, error: `no e-mail address known for user ${plan.target.userId}`, permanent: false };
        }
        to = recipient.email;
      } else {
        return { delivered: false, error: `the email channel cannot deliver to a ${plan.target.type} target`, permanent: true };
      }

      const { mailer } = options;
      if (!mailer) return { delivered: false, error: 'email channel disabled: SMTP_URL is not set', permanent: true };

      try {
        const sent = await mailer.send({ to, subject: emailSubject(plan), text: emailText(plan, options.actionLinkOf(plan)), messageId: emailMessageId(plan.deliveryId) });
        return { delivered: true, detail: `accepted for ${to} as ${sent.messageId}` };
      } catch (error) {
        const responseCode = (error as { responseCode?: number }).responseCode;
        // SMTP 5xx replies are permanent by definition (RFC 5321 §4.2.1); 4xx and network errors may pass.
        const permanent = responseCode !== undefined && responseCode >= 500 && responseCode < 600;
        return { delivered: false, error: `SMTP: ${(error as Error).message}`, permanent };
      }
    },
  };
}
