import { z } from 'zod';
import { acceptInvite, issueInvite, revokeInvite } from '../../commands/teams.js';
import { Timestamp } from '../../domain/schemas.js';
import { TeamRole } from '../../domain/team/roles.js';
import { EmailAddress } from '../../domain/user/identity.js';
import { inviteTeamId } from '../../projections/queries/invites.js';
import { notFoundProblem } from '../problem.js';
import { noContent, routeGroup } from '../routing.js';
import { InviteParams, InviteToken, TeamParams } from '../schemas.js';
import type { ApiServices } from '../services.js';

const route = routeGroup({ tag: 'invites' });

const DEFAULT_TTL_MINUTES = 7 * 24 * 60;

/** Best effort, after the invite is recorded: the token was also returned to the inviter, who can pass it on. */
function mailInvite(services: ApiServices, invite: { inviteId: string; email: string; token: string; teamName: string; role: TeamRole; expiresAt: Date }) {
  const mailer = services.mailer;
  if (!mailer) return;
  const text = [
    `You have been invited to join the team "${invite.teamName}" on AlertOps as ${invite.role}.`,
    '',
    `Your invite token: ${invite.token}`,
    '',
    'Register with it (POST /auth/register with inviteToken), or accept it while signed in with this address',
    `(POST /invites/accept). It can be used once and expires at ${invite.expiresAt.toISOString()}.`,
  ].join('\n');
  mailer
    .send({ to: invite.email, subject: `Invitation to ${invite.teamName} on AlertOps`, text, messageId: `invite-${invite.inviteId}@alertops` })
    .catch((error: unknown) => services.logger.warn({ err: error, inviteId: invite.inviteId }, 'invite e-mail could not be sent'));
}

const issue = route('post', '/teams/:teamId/invites', {
  summary: 'Invite an email address with a role; the token is returned once (and e-mailed when SMTP is configured)',
  permission: { team: 'invites:manage', source: 'stream' },
  replayable: false,
  params: TeamParams,
  body: z.strictObject({ email: EmailAddress, role: TeamRole, ttlMinutes: z.int().min(1).max(30 * 24 * 60).optional() }),
  responses: { 201: z.object({ id: z.uuid(), token: z.string(), expiresAt: Timestamp }) },
  async handler({ params, body, user, services }) {
    const now = services.clock();
    const expiresAt = new Date(now.getTime() + (body.ttlMinutes ?? DEFAULT_TTL_MINUTES) * 60_000);
    const invite = await issueInvite(services, { teamId: params.teamId, actorId: user.id, email: body.email, role: body.role, expiresAt, now });
    const team = await services.db.selectFrom('teams').select('name').where('id', '=', params.teamId).executeTakeFirst();
    mailInvite(services, { ...invite, email: body.email, role: body.role, teamName: team?.name ?? 'a team' });
    return {
      status: 201,
      body: { id: invite.inviteId, token: invite.token, expiresAt: invite.expiresAt.toISOString() },
      position: invite.position,
    };
  },
});

const list = route('get', '/teams/:teamId/invites', {
  summary: "The team's invites, newest first; a pending invite past its expiry is reported as expired",
  permission: { team: 'invites:manage', source: 'stream' },
  params: TeamParams,
  responses: {
    200: z.array(
      z.object({ id: z.uuid(), email: z.string(), role: TeamRole, status: z.enum(['pending', 'accepted', 'revoked', 'expired']), expiresAt: Timestamp }),
    ),
  },
  async handler({ params, services }) {
    const invites = await services.db
      .selectFrom('invites')
      .selectAll()
      .where('team_id', '=', params.teamId)
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .execute();
    const now = services.clock().getTime();
    return {
      status: 200,
      body: invites.map((invite) => ({
        id: invite.id,
        email: invite.email,
        role: invite.role,
        status: invite.status === 'pending' && invite.expires_at.getTime() <= now ? 'expired' : invite.status,
        expiresAt: invite.expires_at.toISOString(),
      })),
    };
  },
});

const revoke = route('delete', '/teams/:teamId/invites/:inviteId', {
  summary: 'Revoke an invite that has not been used',
  permission: { team: 'invites:manage', source: 'stream' },
  params: InviteParams,
  responses: { 204: null },
  handler: ({ params, user, services }) => noContent(revokeInvite(services, { ...params, actorId: user.id, now: services.clock() })),
});

const accept = route('post', '/invites/accept', {
  summary: 'Join the team of an invite sent to the signed-in email address',
  permission: 'signed-in',
  body: z.strictObject({ token: InviteToken }),
  responses: { 200: z.object({ teamId: z.uuid(), role: TeamRole }) },
  async handler({ body, user, services }) {
    const teamId = await inviteTeamId(services.db, body.token);
    if (!teamId) throw notFoundProblem('invite not found');
    const joined = await acceptInvite(services, { teamId, token: body.token, userId: user.id, now: services.clock() });
    return { status: 200, body: { teamId: joined.teamId, role: joined.role }, position: joined.position };
  },
});

export const inviteRoutes = [issue, list, revoke, accept];
