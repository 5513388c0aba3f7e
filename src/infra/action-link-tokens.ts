import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { derivedKey, sameDigest } from './secret-tokens.js';

/** What an action link is for: one delivery of one alert's page, to a member (`userId`) or to an address (null). */
export interface ActionLinkClaims {
  alertId: string;
  deliveryId: string;
  teamId: string;
  userId: string | null;
  expiresAt: Date;
}

export type ActionTokenReading =
  | { status: 'valid'; claims: ActionLinkClaims }
  | { status: 'expired'; claims: ActionLinkClaims }
  /** Not one of ours: malformed, or its signature does not match what it says. */
  | { status: 'invalid' };

const Id = z.string().min(1).max(64);
const SignedClaims = z.strictObject({
  alert: Id,
  delivery: Id,
  team: Id,
  user: Id.nullable(),
  /** Unix seconds. */
  expires: z.int().positive(),
});

const TOKEN = /^([A-Za-z0-9_-]{1,1024})\.([A-Za-z0-9_-]{43})$/;

/** The key action links are signed with, derived from a server secret; the tokens themselves are stored nowhere. */
export function actionLinkKey(serverKey: string): Buffer {
  return derivedKey(serverKey, 'action-link');
}

/** `<base64url claims>.<base64url HMAC-SHA256 of the claims part>`. */
export function signActionToken(key: Buffer, claims: ActionLinkClaims): string {
  const payload = Buffer.from(
    JSON.stringify({
      alert: claims.alertId,
      delivery: claims.deliveryId,
      team: claims.teamId,
      user: claims.userId,
      expires: Math.floor(claims.expiresAt.getTime() / 1000),
    } satisfies z.infer<typeof SignedClaims>),
  ).toString('base64url');
  return `${payload}.${mac(key, payload).toString('base64url')}`;
}

/** The claims of a presented token, once its signature is checked; expiry is judged at `now`. */
export function readActionToken(key: Buffer, token: string, now: Date): ActionTokenReading {
  const match = TOKEN.exec(token);
  if (!match) return { status: 'invalid' };
  const [, payload, signature] = match as unknown as [string, string, string];
  if (!sameDigest(mac(key, payload), Buffer.from(signature, 'base64url'))) return { status: 'invalid' };
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { status: 'invalid' };
  }
  const parsed = SignedClaims.safeParse(decoded);
  if (!parsed.success) return { status: 'invalid' };
  const { alert, delivery, team, user, expires } = parsed.data;
  const claims: ActionLinkClaims = { alertId: alert, deliveryId: delivery, teamId: team, userId: user, expiresAt: new Date(expires * 1000) };
  return now.getTime() < claims.expiresAt.getTime() ? { status: 'valid', claims } : { status: 'expired', claims };
}

function mac(key: Buffer, payload: string): Buffer {
  return createHmac('sha256', key).update(payload).digest();
}
