import { z } from 'zod';
import { changeMemberRole, createTeam, removeMember, rotateWebhookSecret } from '../../commands/teams.js';
import { can, TeamRole } from '../../domain/team/roles.js';
import { WEBHOOK_SECRET_PREFIX, webhookSecret } from '../../infra/webhook-secrets.js';
import { teamsOf } from '../../projections/queries/teams.js';
import { notFoundProblem } from '../problem.js';
import { noContent, routeGroup } from '../routing.js';
import { MemberParams, TeamMembership, TeamParams } from '../schemas.js';

const route = routeGroup({ tag: 'teams' });

const Member = z.object({ userId: z.uuid(), email: z.string(), name: z.string(), role: TeamRole });

const create = route('post', '/teams', {
  summary: 'Create a team; its creator becomes its owner',
  permission: 'signed-in',
  body: z.strictObject({ name: z.string().trim().min(1).max(100) }),
  responses: { 201: z.object({ id: z.uuid(), name: z.string() }) },
  async handler({ body, user, services }) {
    const team = await createTeam(services, { name: body.name, ownerId: user.id, now: services.clock() });
    return { status: 201, body: { id: team.teamId, name: team.name }, position: team.position };
  },
});

const list = route('get', '/teams', {
  summary: "The signed-in user's teams with their role in each",
  permission: 'signed-in',
  responses: { 200: z.array(TeamMembership) },
  async handler({ user, services }) {
    return { status: 200, body: await teamsOf(services.db, user.id) };
  },
});

const get = route('get', '/teams/:teamId', {
  summary: 'A team and its members; owners and admins also see the webhook signing secret',
  // The answer carries the webhook secret for owners and admins: their role comes from the team's stream.
  permission: { team: 'team:read', source: 'stream' },
  params: TeamParams,
  responses: { 200: z.object({ id: z.uuid(), name: z.string(), members: z.array(Member), webhookSecret: z.string().optional() }) },
  async handler({ params, role, services }) {
    const team = await services.db.selectFrom('teams').selectAll().where('id', '=', params.teamId).executeTakeFirst();
    if (!team) throw notFoundProblem('team not found');
    const members = await services.db
      .selectFrom('team_members')
      .innerJoin('users', 'users.id', 'team_members.user_id')
      .select(['team_members.user_id as userId', 'users.email', 'users.name', 'team_members.role'])
      .where('team_members.team_id', '=', params.teamId)
      .orderBy('team_members.joined_at')
      .orderBy('team_members.user_id')
      .execute();
    if (!can(role, 'integrations:manage')) return { status: 200, body: { id: team.id, name: team.name, members } };
    const secret = webhookSecret(services.config.webhookSigningKey, team.id, team.webhook_secret_generation);
    return { status: 200, body: { id: team.id, name: team.name, members, webhookSecret: secret }, headers: { 'Cache-Control': 'no-store' } };
  },
});

const changeRole = route('patch', '/teams/:teamId/members/:userId', {
  summary: "Change a member's role (owners manage owners; a team keeps at least one owner)",
  permission: { team: 'members:manage', source: 'stream' },
  params: MemberParams,
  body: z.strictObject({ role: TeamRole }),
  responses: { 200: z.object({ userId: z.uuid(), role: TeamRole }) },
  async handler({ params, body, user, services }) {
    const change = await changeMemberRole(services, { ...params, actorId: user.id, role: body.role, now: services.clock() });
    return { status: 200, body: { userId: params.userId, role: body.role }, position: change.position };
  },
});

const remove = route('delete', '/teams/:teamId/members/:userId', {
  summary: 'Remove a member; they lose access at once',
  permission: { team: 'members:manage', source: 'stream' },
  params: MemberParams,
  responses: { 204: null },
  handler: ({ params, user, services }) => noContent(removeMember(services, { ...params, actorId: user.id, now: services.clock() })),
});

const rotateSecret = route('post', '/teams/:teamId/webhook-secret/rotate', {
  summary: "Rotate the team's webhook signing secret; the new secret is in this response. For 24 h deliveries carry both signatures",
  permission: { team: 'integrations:manage', source: 'stream' },
  // The response carries the secret: it must not be kept for Idempotency-Key replays.
  replayable: false,
  params: TeamParams,
  responses: { 200: z.object({ secret: z.string().startsWith(WEBHOOK_SECRET_PREFIX) }) },
  async handler({ params, user, services }) {
    const rotated = await rotateWebhookSecret(services, { teamId: params.teamId, actorId: user.id, now: services.clock() });
    return {
      status: 200,
      body: { secret: webhookSecret(services.config.webhookSigningKey, params.teamId, rotated.generation) },
      headers: { 'Cache-Control': 'no-store' },
      position: rotated.position,
    };
  },
});

export const teamRoutes = [create, list, get, changeRole, remove, rotateSecret];
