import type { NotificationAttemptPlan } from '../../commands/alerts.js';
import type { NotificationOutcome } from '../../domain/alert/commands.js';

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

/** Read-model lookups the channels make at send time. */
export interface RecipientDirectory {
  emailOfUser(userId: string): Promise<string | null>;
  webhookSecretOf(teamId: string): Promise<string | null>;
}
