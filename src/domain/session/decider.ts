import { conflict, type Decider, unauthenticated } from '../decider.js';
import type { PresentedToken, SessionCommand } from './commands.js';
import type { SessionEndReason, SessionEvent } from './events.js';
import { sessionTokenId } from './identity.js';

export type SessionState =
  | { status: 'none' }
  | {
      status: 'active';
      sessionId: string;
      userId: string;
      startedAt: string;
      absoluteExpiresAt: string;
      generation: number;
      tokenId: string;
      tokenHash: string;
      expiresAt: string;
    }
  | { status: 'ended'; sessionId: string; userId: string; reason: SessionEndReason };

type ActiveSession = Extract<SessionState, { status: 'active' }>;

const INVALID_REFRESH_TOKEN = 'the refresh token is invalid or expired';

const earlier = (a: Date, b: Date) => (a.getTime() <= b.getTime() ? a : b);

/** Whether the presented token is this session's current token (with its secret) or one it already spent. */
function standingOf(presented: PresentedToken, session: ActiveSession): 'current' | 'spent' | 'foreign' {
  if (presented.generation > session.generation || sessionTokenId(session.sessionId, presented.generation) !== presented.tokenId) return 'foreign';
  if (presented.generation < session.generation) return 'spent';
  return presented.tokenHash === session.tokenHash ? 'current' : 'foreign';
}

/** Why a session that was valid when its token was issued is no longer: the user's cutoff, or its expiry. */
function lapse(session: ActiveSession, sessionsValidAfter: Date | null, now: Date): SessionEndReason | null {
  if (sessionsValidAfter && Date.parse(session.startedAt) < sessionsValidAfter.getTime()) return 'revoked';
  if (now.getTime() >= Date.parse(session.expiresAt)) return 'expired';
  return null;
}

function ended(session: ActiveSession, reason: SessionEndReason, now: Date, tokenId: string | null = null): SessionEvent {
  return {
    type: 'SessionEnded',
    data: { sessionId: session.sessionId, userId: session.userId, reason, generation: session.generation, tokenId, endedAt: now.toISOString() },
  };
}

export const initialState = (): SessionState => ({ status: 'none' });

export function evolve(_state: SessionState, event: SessionEvent): SessionState {
  switch (event.type) {
    case 'SessionStarted': {
      const { sessionId, userId, tokenId, tokenHash, startedAt, expiresAt, absoluteExpiresAt } = event.data;
      return { status: 'active', sessionId, userId, startedAt, absoluteExpiresAt, generation: 0, tokenId, tokenHash, expiresAt };
    }
    case 'SessionTokenRotated': {
      const { sessionId, userId, startedAt, absoluteExpiresAt, generation, tokenId, tokenHash, expiresAt } = event.data;
      return { status: 'active', sessionId, userId, startedAt, absoluteExpiresAt, generation, tokenId, tokenHash, expiresAt };
    }
    case 'SessionEnded': {
      const { sessionId, userId, reason } = event.data;
      return { status: 'ended', sessionId, userId, reason };
    }
  }
}

export function decide(command: SessionCommand, state: SessionState): SessionEvent[] {
  switch (command.type) {
    case 'StartSession': {
      if (state.status !== 'none') throw conflict('this session already exists', 'session_exists');
      const { sessionId, userId, tokenHash, now, absoluteExpiresAt } = command;
      return [
        {
          type: 'SessionStarted',
          data: {
            sessionId,
            userId,
            tokenId: sessionTokenId(sessionId, 0),
            tokenHash,
            startedAt: now.toISOString(),
            expiresAt: earlier(command.expiresAt, absoluteExpiresAt).toISOString(),
            absoluteExpiresAt: absoluteExpiresAt.toISOString(),
          },
        },
      ];
    }
    case 'RotateSessionToken': {
      if (state.status !== 'active') throw unauthenticated(INVALID_REFRESH_TOKEN, 'invalid_refresh_token');
      const standing = standingOf(command.presented, state);
      if (standing === 'foreign') throw unauthenticated(INVALID_REFRESH_TOKEN, 'invalid_refresh_token');
      if (standing === 'spent') return [ended(state, 'refresh_token_reused', command.now, command.presented.tokenId)];
      const lapsed = lapse(state, command.sessionsValidAfter, command.now);
      if (lapsed) return [ended(state, lapsed, command.now)];
      const generation = state.generation + 1;
      return [
        {
          type: 'SessionTokenRotated',
          data: {
            sessionId: state.sessionId,
            userId: state.userId,
            startedAt: state.startedAt,
            absoluteExpiresAt: state.absoluteExpiresAt,
            generation,
            previousTokenId: state.tokenId,
            tokenId: sessionTokenId(state.sessionId, generation),
            tokenHash: command.next.tokenHash,
            rotatedAt: command.now.toISOString(),
            // Rotation never carries a session past its absolute lifetime.
            expiresAt: earlier(command.next.expiresAt, new Date(state.absoluteExpiresAt)).toISOString(),
          },
        },
      ];
    }
    case 'SignOut': {
      // Signing out with a token that opens nothing changes nothing: the outcome the caller wants already holds.
      if (state.status !== 'active' || standingOf(command.presented, state) === 'foreign') return [];
      return [ended(state, 'signed_out', command.now, command.presented.tokenId)];
    }
    case 'CloseSession': {
      if (state.status !== 'active' || state.userId !== command.userId) return [];
      const lapsed = lapse(state, command.sessionsValidAfter, command.now);
      return lapsed ? [ended(state, lapsed, command.now)] : [];
    }
  }
}

/**
 * A session: one sign-in's chain of refresh tokens, in a stream of its own. Rotating the current token moves the
 * chain on; presenting a spent one ends the session (someone holds a copy); the user's "sessions valid after"
 * instant, the token's expiry and the session's absolute lifetime end it too. An ended session accepts nothing,
 * so its stream stops growing.
 *
 * `evolve` reads nothing of the previous state: every event carries the session's whole state (see events.ts).
 */
export const sessionDecider: Decider<SessionCommand, SessionState, SessionEvent> = { initialState, evolve, decide };
