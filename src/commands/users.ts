import { randomUUID } from 'node:crypto';
import type { NewRefreshToken } from '../domain/user/commands.js';
import { fold, unauthenticated } from '../domain/decider.js';
import { type RegisteredUserState, userDecider } from '../domain/user/decider.js';
import type { UserEvent } from '../domain/user/events.js';
import { normalizeEmail, userIdForEmail, userStreamId } from '../domain/user/identity.js';
import type { LogPosition } from '../eventstore/types.js';
import { hashPassword, verifyAgainstDecoy, verifyPassword } from '../infra/passwords.js';
import { newSecretToken, readSecretToken } from '../infra/secret-tokens.js';
import { type CommandDependencies, handleCommand } from './handle-command.js';

const DAY_MS = 86_400_000;

export interface Session {
  userId: string;
  /** `<tokenId>.<secret>`; shown to the client once, never stored. */
  refreshToken: string;
  position: LogPosition | null;
}

/** A fresh refresh token: the client gets `token`, the stream gets only its id, hash and expiry. */
function newRefreshToken(now: Date, ttlDays: number): { token: string; next: Omit<NewRefreshToken, 'familyId'> } {
  const secret = newSecretToken();
  return { token: secret.token, next: { tokenId: secret.id, tokenHash: secret.hash, expiresAt: new Date(now.getTime() + ttlDays * DAY_MS) } };
}

/** The user from their own stream (authoritative, never the read model); null when nobody registered that id. */
export async function loadUser(deps: CommandDependencies, userId: string): Promise<RegisteredUserState | null> {
  const recorded = await deps.eventStore.readStream(userStreamId(userId));
  const state = fold(userDecider, recorded.map((event) => deps.catalog.parse<UserEvent>(event)));
  return state.status === 'registered' ? state : null;
}

/** Registers and signs in. The same email, in any case, registers once: the second racer gets a conflict. */
export async function registerUser(
  deps: CommandDependencies,
  input: { email: string; password: string; name: string; now: Date; refreshTokenTtlDays: number },
): Promise<Session & { email: string; name: string }> {
  const email = normalizeEmail(input.email);
  const userId = userIdForEmail(email);
  const passwordHash = await hashPassword(input.password);
  const refresh = newRefreshToken(input.now, input.refreshTokenTtlDays);
  const result = await handleCommand(
    deps,
    userDecider,
    userStreamId(userId),
    {
      type: 'RegisterUser',
      userId,
      email,
      name: input.name,
      passwordHash,
      refreshToken: { familyId: randomUUID(), ...refresh.next },
      now: input.now,
    },
    { actor: `user:${userId}`, teamId: null },
  );
  return { userId, email, name: input.name, refreshToken: refresh.token, position: result.position };
}

/** A new session for the right email and password; null for a wrong one, whichever part was wrong. */
export async function logIn(
  deps: CommandDependencies,
  input: { email: string; password: string; now: Date; refreshTokenTtlDays: number },
): Promise<Session | null> {
  const user = await loadUser(deps, userIdForEmail(input.email));
  const valid = user ? await verifyPassword(input.password, user.passwordHash) : await verifyAgainstDecoy(input.password);
  if (!user || !valid) return null;
  const refresh = newRefreshToken(input.now, input.refreshTokenTtlDays);
  const result = await handleCommand(
    deps,
    userDecider,
    userStreamId(user.userId),
    { type: 'IssueRefreshToken', refreshToken: { familyId: randomUUID(), ...refresh.next }, now: input.now },
    { actor: `user:${user.userId}`, teamId: null },
  );
  return { userId: user.userId, refreshToken: refresh.token, position: result.position };
}

/**
 * Exchanges the current refresh token of a family for a new one. A spent token coming back means a copy is out
 * there: the family is revoked (that fact is recorded) and the caller is refused.
 */
export async function rotateRefreshToken(
  deps: CommandDependencies,
  input: { userId: string; refreshToken: string; now: Date; refreshTokenTtlDays: number },
): Promise<Session> {
  const presented = readSecretToken(input.refreshToken);
  if (!presented) throw unauthenticated('the refresh token is invalid or expired', 'invalid_refresh_token');
  const refresh = newRefreshToken(input.now, input.refreshTokenTtlDays);
  const result = await handleCommand(
    deps,
    userDecider,
    userStreamId(input.userId),
    { type: 'RotateRefreshToken', tokenId: presented.id, presentedHash: presented.hash, next: refresh.next, now: input.now },
    { actor: `user:${input.userId}`, teamId: null },
  );
  if (result.events.some((event) => event.type === 'RefreshTokenReuseDetected')) {
    throw unauthenticated('the refresh token was already used; every session it belonged to is signed out', 'refresh_token_reused');
  }
  return { userId: input.userId, refreshToken: refresh.token, position: result.position };
}
