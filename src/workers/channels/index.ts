import type { Config } from '../../config.js';
import type { Mailer } from '../../infra/mailer.js';
import type { ChannelName, NotificationChannel, RecipientDirectory } from './channel.js';
import { createEmailChannel } from './email.js';
import { createWebhookChannel } from './webhook.js';

/** Every channel the notifier can send through, configured from the environment. */
export function createNotificationChannels(
  config: Pick<Config, 'webhookTimeoutMs' | 'webhookAllowPrivate'>,
  directory: RecipientDirectory,
  mailer: Mailer | null,
): Record<ChannelName, NotificationChannel> {
  return {
    webhook: createWebhookChannel({
      timeoutMs: config.webhookTimeoutMs,
      allowPrivate: config.webhookAllowPrivate,
      webhookSecretOf: (teamId) => directory.webhookSecretOf(teamId),
    }),
    email: createEmailChannel({ mailer, emailOfUser: (userId) => directory.emailOfUser(userId) }),
  };
}
