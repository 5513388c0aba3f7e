import type { NotificationOutcome } from '../../domain/alert/commands.js';
import type { NotificationAttemptPlan } from '../../domain/alert/notification-attempt.js';
import type { WebhookSecretGeneration } from '../../domain/team/webhook-secret.js';

export type ChannelName = 'webhook' | 'email';

/**
 * Sends one attempt of a notification. Never throws: every way a send can go wrong is a failed
 * outcome, `permanent` when no retry could change it (a refused target, a disabled channel).
 */
export interface NotificationChannel {
  readonly name: ChannelName;
  send(plan: NotificationAttemptPlan): Promise<NotificationOutcome>;
}

/** Which channel carries a target: users are paged at their e-mail address. */
export function channelFor(target: NotificationAttemptPlan['target']): ChannelName {
  return target.type === 'webhook' ? 'webhook' : 'email';
}

/** A user target's address, only while they belong to the alert's team: someone who left is never paged. */
export type MemberAddress = { status: 'member'; email: string } | { status: 'not_member' } | { status: 'no_address' };

/** Read-model lookups the channels make at send time. */
export interface RecipientDirectory {
  memberEmail(teamId: string, userId: string): Promise<MemberAddress>;
  /** Null when the team is not known (yet). */
  webhookSecretGenerationOf(teamId: string): Promise<WebhookSecretGeneration | null>;
}
