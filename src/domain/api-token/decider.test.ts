import { describe, it } from 'vitest';
import { deciderSpecification } from '../decider-specification.js';
import type { ApiTokenCommand } from './commands.js';
import { apiTokenDecider } from './decider.js';
import type { ApiTokenEvent } from './events.js';
import { MAX_LIVE_API_TOKENS } from './identity.js';

const spec = deciderSpecification(apiTokenDecider);
const tokenId = '00000000-0000-4000-8000-0000000000a1';
const teamId = '00000000-0000-4000-8000-0000000000b1';
const otherTeamId = '00000000-0000-4000-8000-0000000000b2';
const adminId = '00000000-0000-4000-8000-0000000000c1';
const tokenHash = 'a'.repeat(64);
const t0 = new Date('2026-01-01T00:00:00.000Z');
const t1 = new Date('2026-01-02T00:00:00.000Z');

const create = (overrides: Partial<Extract<ApiTokenCommand, { type: 'CreateApiToken' }>> = {}): ApiTokenCommand => ({
  type: 'CreateApiToken', tokenId, teamId, name: 'deploy bot', role: 'member', tokenHash, createdBy: adminId, liveTokensOfTeam: 0, now: t0, ...overrides,
});
const created: ApiTokenEvent = {
  type: 'ApiTokenCreated',
  data: { tokenId, teamId, name: 'deploy bot', role: 'member', tokenHash, createdBy: adminId, createdAt: t0.toISOString() },
};
const revoke = (team = teamId): ApiTokenCommand => ({ type: 'RevokeApiToken', teamId: team, revokedBy: adminId, now: t1 });
const revoked: ApiTokenEvent = { type: 'ApiTokenRevoked', data: { tokenId, teamId, revokedBy: adminId, revokedAt: t1.toISOString() } };

describe('API token decider', () => {
  it('a token is created with its name, role and the hash of its secret', () => {
    spec.given([]).when(create({ name: '  deploy bot ' })).then([created]);
  });

  it('a blank or overlong name is refused, naming the field', () => {
    spec.given([]).when(create({ name: '   ' })).thenThrows('invalid', 'invalid_name');
    spec.given([]).when(create({ name: 'x'.repeat(101) })).thenThrows('invalid', 'invalid_name');
  });

  it('a team holds a bounded number of tokens that are not revoked', () => {
    spec.given([]).when(create({ liveTokensOfTeam: MAX_LIVE_API_TOKENS })).thenThrows('conflict', 'too_many_api_tokens');
  });

  it('the same token cannot be created twice', () => {
    spec.given([created]).when(create()).thenThrows('conflict', 'api_token_exists');
  });

  it('a token is revoked once; revoking it again changes nothing', () => {
    spec.given([created]).when(revoke()).then([revoked]);
    spec.given([created, revoked]).when(revoke()).thenNothingHappens();
  });

  it("another team's token, or one that does not exist, is not found", () => {
    spec.given([created]).when(revoke(otherTeamId)).thenThrows('not_found', 'api_token_not_found');
    spec.given([]).when(revoke()).thenThrows('not_found', 'api_token_not_found');
  });
});
