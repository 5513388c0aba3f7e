import type { Selectable } from 'kysely';
import type { SessionEvent } from '../domain/session/events.js';
import { sessionTokenId } from '../domain/session/identity.js';
import type { UserEventOf } from '../domain/user/events.js';
import { defineProjection } from './projection.js';
import type { SessionCutoffsTable, SessionsTable, SessionTokensTable } from './read-models.js';

/**
 * Open sessions, the refresh tokens each has issued (so a presented token is checked before any stream is read), and
 * each user's "sessions valid after" instant (checked on every authenticated request). A session's rows go when it
 * ends.
 */
export const sessionsProjection = defineProjection<
  { sessions: Selectable<SessionsTable>; session_tokens: Selectable<SessionTokensTable>; session_cutoffs: Selectable<SessionCutoffsTable> },
  SessionEvent | UserEventOf<'AllSessionsRevoked'>
>()({
  name: 'sessions',
  keys: { sessions: ['id'], session_tokens: ['token_id'], session_cutoffs: ['user_id'] },
  handlers: {
    SessionStarted({ sessions, session_tokens }, { data, streamVersion }) {
      const { sessionId, userId, tokenId, tokenHash, startedAt, expiresAt, absoluteExpiresAt } = data;
      sessions.put({
        id: sessionId, user_id: userId, started_at: new Date(startedAt), expires_at: new Date(expiresAt),
        absolute_expires_at: new Date(absoluteExpiresAt), generation: 0, version: streamVersion,
      });
      session_tokens.put({ token_id: tokenId, session_id: sessionId, generation: 0, token_hash: tokenHash });
    },
    SessionTokenRotated({ sessions, session_tokens }, { data, streamVersion }) {
      const { sessionId, generation, tokenId, tokenHash, expiresAt } = data;
      sessions.update({ id: sessionId }, { expires_at: new Date(expiresAt), generation, version: streamVersion });
      session_tokens.put({ token_id: tokenId, session_id: sessionId, generation, token_hash: tokenHash });
    },
    SessionEnded({ sessions, session_tokens }, { data: { sessionId, generation } }) {
      sessions.delete({ id: sessionId });
      for (let index = 0; index <= generation; index++) session_tokens.delete({ token_id: sessionTokenId(sessionId, index) });
    },
    AllSessionsRevoked({ session_cutoffs }, { data: { userId, revokedAt } }) {
      session_cutoffs.put({ user_id: userId, sessions_valid_after: new Date(revokedAt) });
    },
  },
});
