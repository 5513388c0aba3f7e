import { sql } from 'kysely';
import type { SessionEvent } from '../domain/session/events.js';
import { sessionTokenId } from '../domain/session/identity.js';
import type { UserEventOf } from '../domain/user/events.js';
import { defineProjection } from './projection.js';
import type { SessionCutoffsTable, SessionsTable, SessionTokensTable } from './read-models.js';

type SessionTables = { sessions: SessionsTable; session_tokens: SessionTokensTable; session_cutoffs: SessionCutoffsTable };

/**
 * Open sessions, the refresh tokens each has issued (so a presented token is checked before any stream is read), and
 * each user's "sessions valid after" instant (checked on every authenticated request). A session's rows go when it
 * ends; every change is keyed by primary key.
 */
export const sessionsProjection = defineProjection<SessionTables, SessionEvent | UserEventOf<'AllSessionsRevoked'>>({
  name: 'sessions',
  tables: ['sessions', 'session_tokens', 'session_cutoffs'],
  handles: new Set(['SessionStarted', 'SessionTokenRotated', 'SessionEnded', 'AllSessionsRevoked']),
  project(db, event) {
    const token = (row: SessionTokensTable) =>
      db.insertInto('session_tokens').values(row).onConflict((conflict) => conflict.column('token_id').doNothing()).compile();
    switch (event.type) {
      case 'SessionStarted': {
        const { sessionId, userId, tokenId, tokenHash, startedAt, expiresAt, absoluteExpiresAt } = event.data;
        return [
          db
            .insertInto('sessions')
            .values({
              id: sessionId,
              user_id: userId,
              started_at: new Date(startedAt),
              expires_at: new Date(expiresAt),
              absolute_expires_at: new Date(absoluteExpiresAt),
              generation: 0,
              version: event.streamVersion,
            })
            .onConflict((conflict) => conflict.column('id').doNothing())
            .compile(),
          token({ token_id: tokenId, session_id: sessionId, generation: 0, token_hash: tokenHash }),
        ];
      }
      case 'SessionTokenRotated': {
        const { sessionId, generation, tokenId, tokenHash, expiresAt } = event.data;
        return [
          db
            .updateTable('sessions')
            .set({ expires_at: new Date(expiresAt), generation, version: event.streamVersion })
            .where('id', '=', sessionId)
            .compile(),
          token({ token_id: tokenId, session_id: sessionId, generation, token_hash: tokenHash }),
        ];
      }
      case 'SessionEnded': {
        const { sessionId, generation } = event.data;
        const tokenIds = Array.from({ length: generation + 1 }, (_, index) => sessionTokenId(sessionId, index));
        return [
          db.deleteFrom('sessions').where('id', '=', sessionId).compile(),
          // One array parameter, however long the session rotated.
          db.deleteFrom('session_tokens').where(sql<boolean>`token_id = any(${tokenIds}::uuid[])`).compile(),
        ];
      }
      case 'AllSessionsRevoked': {
        const { userId, revokedAt } = event.data;
        return [
          db
            .insertInto('session_cutoffs')
            .values({ user_id: userId, sessions_valid_after: new Date(revokedAt) })
            .onConflict((conflict) => conflict.column('user_id').doUpdateSet({ sessions_valid_after: new Date(revokedAt) }))
            .compile(),
        ];
      }
    }
  },
});
