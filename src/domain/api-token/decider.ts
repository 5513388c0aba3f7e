import { conflict, type Decider, DomainError, invalid } from '../decider.js';
import type { ApiTokenCommand } from './commands.js';
import type { ApiTokenEvent, ApiTokenRole } from './events.js';
import { MAX_LIVE_API_TOKENS } from './identity.js';

export type ApiTokenState =
  | { status: 'none' }
  | { status: 'active' | 'revoked'; tokenId: string; teamId: string; name: string; role: ApiTokenRole; tokenHash: string };

const tokenNotFound = () => new DomainError('not_found', 'API token not found', 'api_token_not_found');

export function decide(command: ApiTokenCommand, state: ApiTokenState): ApiTokenEvent[] {
  const at = command.now.toISOString();
  switch (command.type) {
    case 'CreateApiToken': {
      if (state.status !== 'none') throw conflict(`API token ${command.tokenId} already exists`, 'api_token_exists');
      const name = command.name.trim();
      if (name.length === 0 || name.length > 100) throw invalid('a name has 1 to 100 characters', 'invalid_name', 'name');
      if (command.liveTokensOfTeam >= MAX_LIVE_API_TOKENS) {
        throw conflict(`a team has at most ${MAX_LIVE_API_TOKENS} API tokens that are not revoked; revoke one first`, 'too_many_api_tokens');
      }
      const { tokenId, teamId, role, tokenHash, createdBy } = command;
      return [{ type: 'ApiTokenCreated', data: { tokenId, teamId, name, role, tokenHash, createdBy, createdAt: at } }];
    }
    case 'RevokeApiToken': {
      if (state.status === 'none' || state.teamId !== command.teamId) throw tokenNotFound();
      if (state.status === 'revoked') return [];
      return [{ type: 'ApiTokenRevoked', data: { tokenId: state.tokenId, teamId: state.teamId, revokedBy: command.revokedBy, revokedAt: at } }];
    }
  }
}

export function evolve(state: ApiTokenState, event: ApiTokenEvent): ApiTokenState {
  switch (event.type) {
    case 'ApiTokenCreated': {
      const { tokenId, teamId, name, role, tokenHash } = event.data;
      return { status: 'active', tokenId, teamId, name, role, tokenHash };
    }
    case 'ApiTokenRevoked':
      return state.status === 'none' ? state : { ...state, status: 'revoked' };
  }
}

export const initialState = (): ApiTokenState => ({ status: 'none' });

export const apiTokenDecider: Decider<ApiTokenCommand, ApiTokenState, ApiTokenEvent> = { initialState, evolve, decide };
