import { createHmac } from 'node:crypto';
import { derivedKey } from './secret-tokens.js';

/** Standard Webhooks secrets are `whsec_` and the base64 of the key bytes. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/**
 * A team's signing secret of one generation. Derived from the server key every time it is needed, so the event
 * log records only which generation is current and the secret itself is kept nowhere.
 */
export function webhookSecret(serverKey: string, teamId: string, generation: number): string {
  const key = derivedKey(serverKey, `webhook-secret:${teamId}:${generation}`);
  return `${WEBHOOK_SECRET_PREFIX}${key.toString('base64')}`;
}

/** The key bytes of a `whsec_` secret, as Standard Webhooks receivers decode them. */
function keyOf(secret: string): Buffer {
  return Buffer.from(secret.startsWith(WEBHOOK_SECRET_PREFIX) ? secret.slice(WEBHOOK_SECRET_PREFIX.length) : secret, 'base64');
}

/**
 * The `webhook-signature` header: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` for each secret, space-separated,
 * so a receiver holding either the new or the previous secret can verify during a rotation.
 */
export function webhookSignatureHeader(secrets: readonly string[], messageId: string, timestampSeconds: number, body: Buffer): string {
  return secrets
    .map((secret) => {
      const mac = createHmac('sha256', keyOf(secret)).update(`${messageId}.${timestampSeconds}.`).update(body).digest('base64');
      return `v1,${mac}`;
    })
    .join(' ');
}
