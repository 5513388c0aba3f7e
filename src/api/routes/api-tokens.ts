import { z } from 'zod';
import { createApiToken, revokeApiToken } from '../../commands/api-tokens.js';
import { ApiTokenRole } from '../../domain/api-token/events.js';
import { Timestamp } from '../../domain/schemas.js';
import { badRequest } from '../problem.js';
import { noContent, routeGroup } from '../routing.js';
import { pageLimit, TeamParams } from '../schemas.js';

// The answer to a create carries the token itself: it must not be kept for Idempotency-Key replays.
const route = routeGroup({ tag: 'api-tokens', replayable: false });

const ApiTokenParams = TeamParams.extend({ tokenId: z.uuid() });

const ApiTokenSummary = z.object({
  id: z.uuid(),
  name: z.string(),
  role: ApiTokenRole,
  createdBy: z.uuid(),
  createdAt: Timestamp,
  revokedAt: Timestamp.nullable(),
});

const create = route('post', '/teams/:teamId/api-tokens', {
  summary:
    'Create an API token that acts in this team with the role given (member or viewer), as `Authorization: Bearer <token>`; the token is in this response only and stored as a hash',
  permission: { team: 'api-tokens:manage', source: 'stream' },
  params: TeamParams,
  body: z.strictObject({ name: z.string().max(100), role: ApiTokenRole }),
  responses: { 201: z.object({ id: z.uuid(), token: z.string() }), 409: null },
  async handler({ params, body, user, actor, services }) {
    const created = await createApiToken(services, {
      teamId: params.teamId,
      name: body.name,
      role: body.role,
      createdBy: user.id,
      actor,
      now: services.clock(),
    });
    return { status: 201, body: { id: created.tokenId, token: created.token }, headers: { 'Cache-Control': 'no-store' }, position: created.position };
  },
});

const list = route('get', '/teams/:teamId/api-tokens', {
  summary: "The team's API tokens (never the tokens themselves), newest first, a page at a time (`before`: the last id of the previous page)",
  permission: { team: 'api-tokens:manage', source: 'stream' },
  params: TeamParams,
  query: z.object({ limit: pageLimit(200, 50), before: z.uuid().optional() }),
  responses: { 200: z.array(ApiTokenSummary) },
  async handler({ params, query, services }) {
    let select = services.db.selectFrom('api_tokens').selectAll().where('team_id', '=', params.teamId);
    if (query.before) {
      const cursor = await services.db
        .selectFrom('api_tokens')
        .select(['created_at', 'id'])
        .where('id', '=', query.before)
        .where('team_id', '=', params.teamId)
        .executeTakeFirst();
      if (!cursor) throw badRequest('`before` names no API token of this team', { code: 'unknown_cursor' });
      select = select.where((where) =>
        where.or([where('created_at', '<', cursor.created_at), where.and([where('created_at', '=', cursor.created_at), where('id', '<', cursor.id)])]),
      );
    }
    const rows = await select.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
    return {
      status: 200,
      body: rows.map((row) => ({
        id: row.id,
        name: row.name,
        role: row.role,
        createdBy: row.created_by,
        createdAt: row.created_at.toISOString(),
        revokedAt: row.revoked_at?.toISOString() ?? null,
      })),
    };
  },
});

const revoke = route('delete', '/teams/:teamId/api-tokens/:tokenId', {
  summary: 'Revoke an API token: its next request is refused (401), in every process (idempotent)',
  permission: { team: 'api-tokens:manage', source: 'stream' },
  params: ApiTokenParams,
  responses: { 204: null },
  handler: ({ params, user, actor, services }) =>
    noContent(revokeApiToken(services, { teamId: params.teamId, tokenId: params.tokenId, revokedBy: user.id, actor, now: services.clock() })),
});

export const apiTokenRoutes = [create, list, revoke];
