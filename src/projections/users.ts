import type { UserEvent } from '../domain/user/events.js';
import { defineProjection } from './projection.js';
import type { RefreshTokensTable, UsersTable } from './read-models.js';

/** Users by id and email, and which user each refresh token id belongs to. */
export const usersProjection = defineProjection<{ users: UsersTable; refresh_tokens: RefreshTokensTable }, UserEvent>({
  name: 'users',
  tables: ['users', 'refresh_tokens'],
  handles: new Set(['UserRegistered', 'RefreshTokenIssued', 'RefreshTokenRotated']),
  project(db, event) {
    const tokenOwner = (row: RefreshTokensTable) =>
      db.insertInto('refresh_tokens').values(row).onConflict((conflict) => conflict.column('token_id').doNothing()).compile();
    switch (event.type) {
      case 'UserRegistered': {
        const { userId, email, name, registeredAt } = event.data;
        return [
          db
            .insertInto('users')
            .values({ id: userId, email, name, registered_at: new Date(registeredAt) })
            .onConflict((conflict) => conflict.column('id').doNothing())
            .compile(),
        ];
      }
      case 'RefreshTokenIssued':
      case 'RefreshTokenRotated': {
        const { tokenId, userId, familyId, expiresAt } = event.data;
        return [tokenOwner({ token_id: tokenId, user_id: userId, family_id: familyId, expires_at: new Date(expiresAt) })];
      }
      default:
        return [];
    }
  },
});
