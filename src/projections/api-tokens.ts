import type { Selectable } from 'kysely';
import type { ApiTokenEventOf } from '../domain/api-token/events.js';
import { defineProjection } from './projection.js';
import type { ApiTokensTable } from './read-models.js';

/** A team's API tokens for listing, without their hashes. */
export const apiTokensProjection = defineProjection<{ api_tokens: Selectable<ApiTokensTable> }, ApiTokenEventOf<'ApiTokenCreated' | 'ApiTokenRevoked'>>()({
  name: 'api-tokens',
  keys: { api_tokens: ['id'] },
  handlers: {
    ApiTokenCreated({ api_tokens }, { data: { tokenId, teamId, name, role, createdBy, createdAt } }) {
      api_tokens.put({ id: tokenId, team_id: teamId, name, role, created_by: createdBy, created_at: new Date(createdAt), revoked_at: null });
    },
    ApiTokenRevoked: ({ api_tokens }, { data }) => api_tokens.update({ id: data.tokenId }, { revoked_at: new Date(data.revokedAt) }),
  },
});
