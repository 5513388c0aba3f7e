import { conflict, type Decider, forbidden, gone, invalid, notFound } from '../decider.js';
import { normalizeEmail } from '../user/identity.js';
import type { TeamCommand } from './commands.js';
import type { TeamEvent } from './events.js';
import { can, type TeamPermission, type TeamRole } from './roles.js';

export interface InviteState {
  email: string;
  role: TeamRole;
  tokenHash: string;
  expiresAt: string;
  status: 'pending' | 'accepted' | 'revoked';
}

export type TeamState =
  | { status: 'none' }
  | {
      status: 'active';
      teamId: string;
      name: string;
      members: Record<string, TeamRole>;
      invites: Record<string, InviteState>;
      /** The generation of the webhook signing secret in use; the secret itself is derived from it, never kept. */
      webhookSecretGeneration: number;
    };

type ActiveTeamState = Extract<TeamState, { status: 'active' }>;

/** The actor's current role must carry the permission; someone outside the team does not see it at all. */
function requirePermission(state: TeamState, actorId: string, permission: TeamPermission): asserts state is ActiveTeamState {
  const role = state.status === 'active' ? state.members[actorId] : undefined;
  if (!role) throw notFound('team not found');
  if (!can(role, permission)) throw forbidden(`a team ${role} may not do this`);
}

function requireMember(state: ActiveTeamState, userId: string): TeamRole {
  const role = state.members[userId];
  if (!role) throw notFound('member not found');
  return role;
}

function ownerCount(state: ActiveTeamState): number {
  return Object.values(state.members).filter((role) => role === 'owner').length;
}

function withoutKey<V>(record: Record<string, V>, key: string): Record<string, V> {
  const { [key]: _removed, ...rest } = record;
  return rest;
}

const LAST_OWNER = 'a team keeps at least one owner';

function decideAcceptInvite(command: Extract<TeamCommand, { type: 'AcceptInvite' }>, state: TeamState): TeamEvent[] {
  const invite = state.status === 'active' ? state.invites[command.inviteId] : undefined;
  // A token with the right id and the wrong secret is indistinguishable from no invite at all.
  if (state.status !== 'active' || !invite || invite.tokenHash !== command.tokenHash) throw notFound('invite not found');
  if (invite.status === 'accepted') throw gone('the invite has already been used', 'invite_used');
  if (invite.status === 'revoked') throw gone('the invite was revoked', 'invite_revoked');
  if (command.now.getTime() >= Date.parse(invite.expiresAt)) throw gone('the invite has expired', 'invite_expired');
  if (normalizeEmail(invite.email) !== normalizeEmail(command.email)) {
    throw forbidden('the invite was sent to another email address');
  }
  if (state.members[command.userId]) throw conflict('you are already a member of this team', 'already_member');
  const at = command.now.toISOString();
  return [
    { type: 'InviteAccepted', data: { teamId: state.teamId, inviteId: command.inviteId, userId: command.userId, acceptedAt: at } },
    { type: 'MemberAdded', data: { teamId: state.teamId, userId: command.userId, role: invite.role, inviteId: command.inviteId, addedAt: at } },
  ];
}

export const initialState = (): TeamState => ({ status: 'none' });

export function evolve(state: TeamState, event: TeamEvent): TeamState {
  if (event.type === 'TeamCreated') {
    return { status: 'active', teamId: event.data.teamId, name: event.data.name, members: {}, invites: {}, webhookSecretGeneration: 0 };
  }
  if (state.status !== 'active') return state;
  switch (event.type) {
    case 'MemberAdded':
    case 'MemberRoleChanged':
      return { ...state, members: { ...state.members, [event.data.userId]: event.data.role } };
    case 'MemberRemoved':
      return { ...state, members: withoutKey(state.members, event.data.userId) };
    case 'InviteIssued': {
      const { inviteId, email, role, tokenHash, expiresAt } = event.data;
      return { ...state, invites: { ...state.invites, [inviteId]: { email, role, tokenHash, expiresAt, status: 'pending' } } };
    }
    case 'InviteRevoked':
    case 'InviteAccepted': {
      const invite = state.invites[event.data.inviteId];
      if (!invite) return state;
      const status = event.type === 'InviteRevoked' ? 'revoked' : 'accepted';
      return { ...state, invites: { ...state.invites, [event.data.inviteId]: { ...invite, status } } };
    }
    case 'WebhookSecretRotated':
      return { ...state, webhookSecretGeneration: event.data.generation };
  }
}

export function decide(command: TeamCommand, state: TeamState): TeamEvent[] {
  const at = command.now.toISOString();
  switch (command.type) {
    case 'CreateTeam': {
      if (state.status !== 'none') throw conflict('the team already exists', 'team_exists');
      const { teamId, name, ownerId } = command;
      return [
        { type: 'TeamCreated', data: { teamId, name, createdBy: ownerId, createdAt: at } },
        { type: 'MemberAdded', data: { teamId, userId: ownerId, role: 'owner', inviteId: null, addedAt: at } },
      ];
    }

    case 'ChangeMemberRole': {
      requirePermission(state, command.actorId, 'members:manage');
      const previousRole = requireMember(state, command.userId);
      if (previousRole === 'owner' || command.role === 'owner') requirePermission(state, command.actorId, 'owners:manage');
      if (previousRole === command.role) return [];
      if (previousRole === 'owner' && ownerCount(state) === 1) throw conflict(LAST_OWNER, 'last_owner');
      return [
        {
          type: 'MemberRoleChanged',
          data: { teamId: state.teamId, userId: command.userId, previousRole, role: command.role, changedBy: command.actorId, changedAt: at },
        },
      ];
    }

    case 'RemoveMember': {
      requirePermission(state, command.actorId, 'members:manage');
      const role = requireMember(state, command.userId);
      if (role === 'owner') {
        requirePermission(state, command.actorId, 'owners:manage');
        if (ownerCount(state) === 1) throw conflict(LAST_OWNER, 'last_owner');
      }
      return [
        { type: 'MemberRemoved', data: { teamId: state.teamId, userId: command.userId, role, removedBy: command.actorId, removedAt: at } },
      ];
    }

    case 'IssueInvite': {
      requirePermission(state, command.actorId, 'invites:manage');
      if (command.role === 'owner') requirePermission(state, command.actorId, 'owners:manage');
      if (state.invites[command.inviteId]) throw conflict('the invite already exists', 'invite_exists');
      if (command.expiresAt.getTime() <= command.now.getTime()) throw invalid('an invite must expire in the future', 'invite_expiry');
      const { inviteId, email, role, tokenHash } = command;
      return [
        {
          type: 'InviteIssued',
          data: {
            teamId: state.teamId, inviteId, email: normalizeEmail(email), role, tokenHash, issuedBy: command.actorId, issuedAt: at,
            expiresAt: command.expiresAt.toISOString(),
          },
        },
      ];
    }

    case 'RevokeInvite': {
      requirePermission(state, command.actorId, 'invites:manage');
      const invite = state.invites[command.inviteId];
      if (!invite) throw notFound('invite not found');
      if (invite.status === 'revoked') return [];
      if (invite.status === 'accepted') throw gone('the invite has already been used', 'invite_used');
      return [{ type: 'InviteRevoked', data: { teamId: state.teamId, inviteId: command.inviteId, revokedBy: command.actorId, revokedAt: at } }];
    }

    case 'AcceptInvite':
      return decideAcceptInvite(command, state);

    case 'RotateWebhookSecret':
      requirePermission(state, command.actorId, 'integrations:manage');
      return [
        {
          type: 'WebhookSecretRotated',
          data: { teamId: state.teamId, generation: state.webhookSecretGeneration + 1, rotatedBy: command.actorId, rotatedAt: at },
        },
      ];
  }
}

export const teamDecider: Decider<TeamCommand, TeamState, TeamEvent> = { initialState, evolve, decide };
