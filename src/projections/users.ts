import type { Selectable } from 'kysely';
import type { UserEventOf } from '../domain/user/events.js';
import { defineProjection } from './projection.js';
import type { RefreshTokensTable, UsersTable } from './read-models.js';

type TokenEvent = UserEventOf<'RefreshTokenIssued' | 'RefreshTokenRotated'>;

/** Users by id and email, and which user each refresh token id belongs to. */
export const usersProjection = defineProjection<
  { users: Selectable<UsersTable>; refresh_tokens: Selectable<RefreshTokensTable> },
  UserEventOf<'UserRegistered'> | TokenEvent
>()({
  name: 'users',
  keys: { users: ['id'], refresh_tokens: ['token_id'] },
  handlers: {
    UserRegistered({ users }, { data: { userId, email, name, registeredAt } }) {
      users.put({ id: userId, email, name, registered_at: new Date(registeredAt) });
    },
    RefreshTokenIssued: recordTokenOwner,
    RefreshTokenRotated: recordTokenOwner,
  },
});

function recordTokenOwner(
  { refresh_tokens }: { refresh_tokens: { put(row: Selectable<RefreshTokensTable>): void } },
  { data: { tokenId, userId, familyId, expiresAt } }: { data: TokenEvent['data'] },
): void {
  refresh_tokens.put({ token_id: tokenId, user_id: userId, family_id: familyId, expires_at: new Date(expiresAt) });
}
