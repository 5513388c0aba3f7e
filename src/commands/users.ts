import { forbidden, notFound } from '../domain/decider.js';
import { type RegisteredUserState, userDecider } from '../domain/user/decider.js';
import { normalizeEmail, userIdForEmail, userStreamId } from '../domain/user/identity.js';
import { comparePositions, type LogPosition } from '../eventstore/types.js';
import { hashPassword, verifyAgainstDecoy, verifyPassword } from '../infra/passwords.js';
import { aggregateStream, type CommandDependencies, commandHandler } from './handle-command.js';
import { closeStaleSessions, type Session, type SessionCommandDependencies, type SessionLifetimes, startSession } from './sessions.js';

export type { Session } from './sessions.js';

const handleUser = commandHandler(userDecider, userStreamId);

/** The user from their own stream (authoritative, never the read model); null when nobody registered that id. */
export async function loadUser(deps: CommandDependencies, userId: string): Promise<RegisteredUserState | null> {
  const { state } = await aggregateStream(deps, userDecider, userStreamId(userId));
  return state.status === 'registered' ? state : null;
}

const later = (a: LogPosition | null, b: LogPosition | null) => (!a ? b : !b ? a : comparePositions(a, b) >= 0 ? a : b);
const cutoffOf = (user: RegisteredUserState) => (user.sessionsValidAfter ? new Date(user.sessionsValidAfter) : null);

/** Registers and signs in. The same email, in any case, registers once: the second racer gets a conflict. */
export async function registerUser(
  deps: CommandDependencies,
  input: { email: string; password: string; name: string; now: Date; lifetimes: SessionLifetimes },
): Promise<Session & { email: string; name: string }> {
  const email = normalizeEmail(input.email);
  const userId = userIdForEmail(email);
  const passwordHash = await hashPassword(input.password);
  await handleUser(
    deps,
    userId,
    { type: 'RegisterUser', userId, email, name: input.name, passwordHash, now: input.now },
    { actor: `user:${userId}` },
  );
  const session = await startSession(deps, { userId, now: input.now, lifetimes: input.lifetimes });
  return { ...session, email, name: input.name };
}

/**
 * A new session for the right email and password; null for a wrong one, whichever part was wrong. Signing in also
 * closes some of the user's sessions that no longer count, so their number stays bounded.
 */
export async function logIn(
  deps: SessionCommandDependencies,
  input: { email: string; password: string; now: Date; lifetimes: SessionLifetimes },
): Promise<Session | null> {
  const user = await loadUser(deps, userIdForEmail(input.email));
  const valid = user ? await verifyPassword(input.password, user.passwordHash) : await verifyAgainstDecoy(input.password);
  if (!user || !valid) return null;
  await closeStaleSessions(deps, { userId: user.userId, sessionsValidAfter: cutoffOf(user), now: input.now });
  return startSession(deps, { userId: user.userId, now: input.now, lifetimes: input.lifetimes });
}

/**
 * Ends every session of the user: from now on their sessions' refresh tokens, and every access token issued before
 * now, are refused. The sessions are then closed one by one (a bounded number here, the rest at later sign-ins).
 */
export async function signOutEverywhere(
  deps: SessionCommandDependencies,
  input: { userId: string; now: Date },
): Promise<{ position: LogPosition | null }> {
  const result = await handleUser(deps, input.userId, { type: 'RevokeAllSessions', now: input.now }, { actor: `user:${input.userId}` });
  if (result.state.status !== 'registered') throw notFound('user not found');
  const closed = await closeStaleSessions(deps, { userId: input.userId, sessionsValidAfter: cutoffOf(result.state), now: input.now });
  return { position: later(result.position, closed) };
}

/**
 * Changes the password of a user who proves the current one, and ends every session as signing out everywhere does.
 * A wrong current password is refused (403, `wrong_password`) and changes nothing.
 */
export async function changePassword(
  deps: SessionCommandDependencies,
  input: { userId: string; currentPassword: string; newPassword: string; now: Date },
): Promise<{ position: LogPosition | null }> {
  const user = await loadUser(deps, input.userId);
  if (!user) throw notFound('user not found');
  if (!(await verifyPassword(input.currentPassword, user.passwordHash))) throw forbidden('the current password is wrong', 'wrong_password');
  const result = await handleUser(
    deps,
    user.userId,
    { type: 'ChangePassword', verifiedPasswordHash: user.passwordHash, newPasswordHash: await hashPassword(input.newPassword), now: input.now },
    { actor: `user:${user.userId}` },
  );
  if (result.state.status !== 'registered') throw notFound('user not found');
  const closed = await closeStaleSessions(deps, { userId: user.userId, sessionsValidAfter: cutoffOf(result.state), now: input.now });
  return { position: later(result.position, closed) };
}
