import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { unauthenticated } from '../domain/decider.js';
import type { PresentedToken } from '../domain/session/commands.js';
import { sessionDecider } from '../domain/session/decider.js';
import type { SessionEndReason } from '../domain/session/events.js';
import { sessionStreamId } from '../domain/session/identity.js';
import { comparePositions, type LogPosition } from '../eventstore/types.js';
import { newTokenSecret, readSecretToken, sameSecretHash } from '../infra/secret-tokens.js';
import type { ReadModels } from '../projections/read-models.js';
import { type CommandDependencies, commandHandler } from './handle-command.js';

const handleSession = commandHandler(sessionDecider, sessionStreamId);

const DAY_MS = 86_400_000;
/**
 * Stale sessions (revoked by the user's cutoff, or expired) closed by one request, at most. The cutoff already refuses
 * them all; closing them is what lets their rows go, and the next sign-in closes the rest.
 */
const STALE_SESSIONS_CLOSED_PER_REQUEST = 50;

export interface SessionCommandDependencies extends CommandDependencies {
  db: Kysely<ReadModels>;
}

export interface SessionLifetimes {
  refreshTokenTtlDays: number;
  sessionMaxDays: number;
}

export interface Session {
  userId: string;
  sessionId: string;
  /** `<tokenId>.<secret>`; shown to the client once, never stored. */
  refreshToken: string;
  position: LogPosition | null;
}

const invalidRefreshToken = () => unauthenticated('the refresh token is invalid or expired', 'invalid_refresh_token');

const endedSessionRefusal: Record<SessionEndReason, () => Error> = {
  refresh_token_reused: () =>
    unauthenticated('the refresh token was already used; every session it belonged to is signed out', 'refresh_token_reused'),
  revoked: () => unauthenticated('this session was ended by signing out everywhere or by a password change', 'session_revoked'),
  expired: invalidRefreshToken,
  signed_out: invalidRefreshToken,
};

/** A new session for a user who just proved who they are (registration, sign-in). */
export async function startSession(
  deps: CommandDependencies,
  input: { userId: string; now: Date; lifetimes: SessionLifetimes },
): Promise<Session> {
  const { userId, now, lifetimes } = input;
  const sessionId = randomUUID();
  const secret = newTokenSecret();
  const result = await handleSession(
    deps,
    sessionId,
    {
      type: 'StartSession',
      sessionId,
      userId,
      tokenHash: secret.hash,
      expiresAt: new Date(now.getTime() + lifetimes.refreshTokenTtlDays * DAY_MS),
      absoluteExpiresAt: new Date(now.getTime() + lifetimes.sessionMaxDays * DAY_MS),
      now,
    },
    { actor: `user:${userId}` },
  );
  const started = result.events.find((event) => event.type === 'SessionStarted')!;
  return { userId, sessionId, refreshToken: `${started.data.tokenId}.${secret.secret}`, position: result.position };
}

interface KnownToken {
  sessionId: string;
  userId: string;
  presented: PresentedToken;
  /** The session stream's revision the read model last saw. */
  version: number;
  sessionsValidAfter: Date | null;
}

/**
 * A presented refresh token the read model knows, with the right secret; null otherwise. This is checked before any
 * stream is read, so a forged or unknown token costs one indexed lookup.
 */
async function findPresentedToken(db: Kysely<ReadModels>, refreshToken: string): Promise<KnownToken | null> {
  const presented = readSecretToken(refreshToken);
  if (!presented) return null;
  const known = await db
    .selectFrom('session_tokens as token')
    .innerJoin('sessions as session', 'session.id', 'token.session_id')
    .leftJoin('session_cutoffs as cutoff', 'cutoff.user_id', 'session.user_id')
    .select(['token.session_id', 'token.generation', 'token.token_hash', 'session.user_id', 'session.version', 'cutoff.sessions_valid_after'])
    .where('token.token_id', '=', presented.id)
    .executeTakeFirst();
  if (!known || !sameSecretHash(known.token_hash, presented.hash)) return null;
  return {
    sessionId: known.session_id,
    userId: known.user_id,
    presented: { tokenId: presented.id, tokenHash: presented.hash, generation: known.generation },
    version: known.version,
    sessionsValidAfter: known.sessions_valid_after,
  };
}

/**
 * Exchanges a session's current refresh token for the next one. A spent token coming back means a copy is out
 * there: the session is ended (that fact is recorded) and the caller refused; so is a session the user revoked or
 * one past its expiry.
 */
export async function refreshSession(
  deps: SessionCommandDependencies,
  input: { refreshToken: string; now: Date; lifetimes: SessionLifetimes },
): Promise<Session> {
  const known = await findPresentedToken(deps.db, input.refreshToken);
  if (!known) throw invalidRefreshToken();
  const next = newTokenSecret();
  const result = await handleSession(
    deps,
    known.sessionId,
    {
      type: 'RotateSessionToken',
      presented: known.presented,
      next: { tokenHash: next.hash, expiresAt: new Date(input.now.getTime() + input.lifetimes.refreshTokenTtlDays * DAY_MS) },
      sessionsValidAfter: known.sessionsValidAfter,
      now: input.now,
    },
    { actor: `user:${known.userId}`, readFrom: known.version },
  );
  for (const event of result.events) {
    if (event.type === 'SessionEnded') throw endedSessionRefusal[event.data.reason]();
    if (event.type === 'SessionTokenRotated') {
      return { userId: known.userId, sessionId: known.sessionId, refreshToken: `${event.data.tokenId}.${next.secret}`, position: result.position };
    }
  }
  throw new Error(`rotating a token of session ${known.sessionId} decided nothing`);
}

/** Ends the session a refresh token belongs to. A token that opens no session ends nothing, and that is no error. */
export async function signOut(
  deps: SessionCommandDependencies,
  input: { refreshToken: string; now: Date },
): Promise<{ signedOut: boolean; position: LogPosition | null }> {
  const known = await findPresentedToken(deps.db, input.refreshToken);
  if (!known) return { signedOut: false, position: null };
  const result = await handleSession(
    deps,
    known.sessionId,
    { type: 'SignOut', presented: known.presented, now: input.now },
    { actor: `user:${known.userId}`, readFrom: known.version },
  );
  return { signedOut: result.events.length > 0, position: result.position };
}

/**
 * Closes the user's sessions that no longer count (started before `sessionsValidAfter`, or expired), a bounded number
 * per call. Returns the position of the last close, if any.
 */
export async function closeStaleSessions(
  deps: SessionCommandDependencies,
  input: { userId: string; sessionsValidAfter: Date | null; now: Date },
): Promise<LogPosition | null> {
  const { userId, sessionsValidAfter, now } = input;
  const stale = await deps.db
    .selectFrom('sessions')
    .select(['id', 'version'])
    .where('user_id', '=', userId)
    .where((where) =>
      sessionsValidAfter ? where.or([where('expires_at', '<=', now), where('started_at', '<', sessionsValidAfter)]) : where('expires_at', '<=', now),
    )
    .orderBy('expires_at')
    .limit(STALE_SESSIONS_CLOSED_PER_REQUEST)
    .execute();
  const results = await Promise.all(
    stale.map((session) =>
      handleSession(deps, session.id, { type: 'CloseSession', userId, sessionsValidAfter, now }, {
        actor: `user:${userId}`,
        readFrom: session.version,
      }),
    ),
  );
  let last: LogPosition | null = null;
  for (const { position } of results) if (position && (!last || comparePositions(position, last) > 0)) last = position;
  return last;
}
