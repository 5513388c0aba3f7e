import { conflict, type Decider, notFound } from '../decider.js';
import type { UserCommand } from './commands.js';
import type { UserEvent } from './events.js';

export type UserState =
  | { status: 'none' }
  | {
      status: 'registered';
      userId: string;
      email: string;
      name: string;
      passwordHash: string;
      /** Sessions started and access tokens issued before this instant are refused; null until the first revocation. */
      sessionsValidAfter: string | null;
    };

export type RegisteredUserState = Extract<UserState, { status: 'registered' }>;

/** The cutoff only moves forward, even if a clock somewhere steps back. */
function nextCutoff(state: RegisteredUserState, now: Date): string {
  const previous = state.sessionsValidAfter ? Date.parse(state.sessionsValidAfter) : -Infinity;
  return new Date(Math.max(previous, now.getTime())).toISOString();
}

export const initialState = (): UserState => ({ status: 'none' });

export function evolve(state: UserState, event: UserEvent): UserState {
  switch (event.type) {
    case 'UserRegistered': {
      const { userId, email, name, passwordHash } = event.data;
      return { status: 'registered', userId, email, name, passwordHash, sessionsValidAfter: null };
    }
    case 'PasswordChanged':
      return state.status === 'registered' ? { ...state, passwordHash: event.data.passwordHash } : state;
    case 'AllSessionsRevoked':
      return state.status === 'registered' ? { ...state, sessionsValidAfter: event.data.revokedAt } : state;
    case 'RefreshTokenIssued':
    case 'RefreshTokenRotated':
    case 'RefreshTokenReuseDetected':
      return state;
  }
}

export function decide(command: UserCommand, state: UserState): UserEvent[] {
  switch (command.type) {
    case 'RegisterUser': {
      if (state.status !== 'none') throw conflict('a user with this email already exists', 'email_taken');
      const { userId, email, name, passwordHash, now } = command;
      return [{ type: 'UserRegistered', data: { userId, email, name, passwordHash, registeredAt: now.toISOString() } }];
    }
    case 'ChangePassword': {
      if (state.status !== 'registered') throw notFound('user not found');
      if (state.passwordHash !== command.verifiedPasswordHash) {
        throw conflict('the password was changed meanwhile; sign in again and retry', 'password_changed_meanwhile');
      }
      return [
        { type: 'PasswordChanged', data: { userId: state.userId, passwordHash: command.newPasswordHash, changedAt: command.now.toISOString() } },
        { type: 'AllSessionsRevoked', data: { userId: state.userId, reason: 'password_changed', revokedAt: nextCutoff(state, command.now) } },
      ];
    }
    case 'RevokeAllSessions':
      if (state.status !== 'registered') throw notFound('user not found');
      return [{ type: 'AllSessionsRevoked', data: { userId: state.userId, reason: 'signed_out_everywhere', revokedAt: nextCutoff(state, command.now) } }];
  }
}

/**
 * A user: identity, password and the instant before which their sessions no longer count. Sessions themselves live
 * in streams of their own (src/domain/session), so this stream grows only when the user registers, changes their
 * password or signs out everywhere.
 */
export const userDecider: Decider<UserCommand, UserState, UserEvent> = { initialState, evolve, decide };
