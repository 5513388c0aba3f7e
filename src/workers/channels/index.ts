import type { Config } from '../../config.js';
import { signingGenerations } from '../../domain/team/webhook-secret.js';
import type { Mailer } from '../../infra/mailer.js';
import { actionLinkKey } from '../../infra/action-link-tokens.js';
import { webhookSecret } from '../../infra/webhook-secrets.js';
import { actionLinks } from './action-links.js';
import type { ChannelName, NotificationChannel, RecipientDirectory } from './channel.js';
import { createEmailChannel } from './email.js';
import { createWebhookChannel } from './webhook.js';

/** The team's `whsec_` secrets a message sent at `now` is signed with, current first; null when the team is unknown. */
export function teamSigningSecrets(
  config: Pick<Config, 'webhookSigningKey'>,
  directory: Pick<RecipientDirectory, 'webhookSecretGenerationOf'>,
): (teamId: string, now: Date) => Promise<string[] | null> {
  return async (teamId, now) => {
    const secret = await directory.webhookSecretGenerationOf(teamId);
    if (!secret) return null;
    return signingGenerations(secret, now).map((generation) => webhookSecret(config.webhookSigningKey, teamId, generation));
  };
}

/** Every channel the notifier can send through, configured from the environment. */
export function createNotificationChannels(
  config: Pick<
    Config,
    'webhookTimeoutMs' | 'webhookAllowPrivate' | 'webhookAllowLoopback' | 'webhookSigningKey' | 'jwtSecret' | 'actionLinkTtlHours'
  >,
  directory: RecipientDirectory,
  mailer: Mailer | null,
  /** The base of action links: PUBLIC_URL, or the address the API listens on. */
  publicUrl: () => string,
  clock: () => Date = () => new Date(),
): Record<ChannelName, NotificationChannel> {
  const actionLinkOf = actionLinks({ key: actionLinkKey(config.jwtSecret), ttlHours: config.actionLinkTtlHours, publicUrl, clock });
  return {
    webhook: createWebhookChannel({
      timeoutMs: config.webhookTimeoutMs,
      policy: { allowPrivate: config.webhookAllowPrivate, allowLoopback: config.webhookAllowLoopback },
      signingSecretsOf: teamSigningSecrets(config, directory),
      clock,
      actionLinkOf,
    }),
    email: createEmailChannel({ mailer, memberEmail: (teamId, userId) => directory.memberEmail(teamId, userId), actionLinkOf }),
  };
}
