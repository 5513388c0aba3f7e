import { type Kysely } from 'kysely';
import { apiTokenDecider } from '../domain/api-token/decider.js';
import type { ApiTokenRole } from '../domain/api-token/events.js';
import { apiTokenStreamId } from '../domain/api-token/identity.js';
import type { Actor, LogPosition } from '../eventstore/types.js';
import { newSecretToken, readSecretToken, sameSecretHash } from '../infra/secret-tokens.js';
import type { ReadModels } from '../projections/read-models.js';
import { aggregateStream, type CommandDependencies, commandHandler } from './handle-command.js';

const handleApiToken = commandHandler(apiTokenDecider, apiTokenStreamId, (token) => (token.status === 'none' ? null : token.teamId));

/** Every API token starts so, to be told from access tokens at a glance (and by secret scanners). */
export const API_TOKEN_PREFIX = 'aot_';

export interface ApiTokenCommandDependencies extends CommandDependencies {
  db: Kysely<ReadModels>;
}

/** Who a presented API token acts as: a role in one team. */
export interface ApiTokenHolder {
  tokenId: string;
  teamId: string;
  role: ApiTokenRole;
}

export async function createApiToken(
  deps: ApiTokenCommandDependencies,
  input: { teamId: string; name: string; role: ApiTokenRole; createdBy: string; actor: Actor; now: Date },
): Promise<{ tokenId: string; token: string; position: LogPosition | null }> {
  const secret = newSecretToken();
  const live = await deps.db
    .selectFrom('api_tokens')
    .select((select) => select.fn.countAll<string>().as('count'))
    .where('team_id', '=', input.teamId)
    .where('revoked_at', 'is', null)
    .executeTakeFirstOrThrow();
  const result = await handleApiToken(
    deps,
    secret.id,
    {
      type: 'CreateApiToken',
      tokenId: secret.id,
      teamId: input.teamId,
      name: input.name,
      role: input.role,
      tokenHash: secret.hash,
      createdBy: input.createdBy,
      liveTokensOfTeam: Number(live.count),
      now: input.now,
    },
    { actor: input.actor, newStream: true },
  );
  return { tokenId: secret.id, token: `${API_TOKEN_PREFIX}${secret.token}`, position: result.position };
}

export async function revokeApiToken(
  deps: CommandDependencies,
  input: { teamId: string; tokenId: string; revokedBy: string; actor: Actor; now: Date },
): Promise<{ position: LogPosition | null }> {
  const result = await handleApiToken(deps, input.tokenId, { type: 'RevokeApiToken', teamId: input.teamId, revokedBy: input.revokedBy, now: input.now }, { actor: input.actor });
  return { position: result.position };
}

/**
 * The holder of a presented API token, from the token's own stream (two events at most): a revoke counts from the
 * moment it is appended, in every process. Null for anything else, revoked tokens included.
 */
export async function apiTokenHolder(deps: CommandDependencies, presented: string): Promise<ApiTokenHolder | null> {
  if (!presented.startsWith(API_TOKEN_PREFIX)) return null;
  const secret = readSecretToken(presented.slice(API_TOKEN_PREFIX.length));
  if (!secret) return null;
  const { state } = await aggregateStream(deps, apiTokenDecider, apiTokenStreamId(secret.id));
  if (state.status !== 'active' || !sameSecretHash(state.tokenHash, secret.hash)) return null;
  return { tokenId: state.tokenId, teamId: state.teamId, role: state.role };
}

/** Whether a bearer credential is shaped as an API token rather than an access token. */
export const isApiToken = (presented: string) => presented.startsWith(API_TOKEN_PREFIX);
