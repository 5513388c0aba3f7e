import type { Selectable } from 'kysely';
import type { TeamEventOf } from '../domain/team/events.js';
import { defineProjection } from './projection.js';
import type { TeamMembersTable, TeamsTable } from './read-models.js';

/** Teams and their current members with roles: what authorization reads on every request. */
export const teamsProjection = defineProjection<
  { teams: Selectable<TeamsTable>; team_members: Selectable<TeamMembersTable> },
  TeamEventOf<'TeamCreated' | 'MemberAdded' | 'MemberRoleChanged' | 'MemberRemoved' | 'WebhookSecretRotated'>
>()({
  name: 'teams',
  keys: { teams: ['id'], team_members: ['team_id', 'user_id'] },
  handlers: {
    TeamCreated({ teams }, { data: { teamId, name, createdAt } }) {
      teams.put({ id: teamId, name, webhook_secret_generation: 0, webhook_secret_rotated_at: null, created_at: new Date(createdAt) });
    },
    MemberAdded({ team_members }, { data: { teamId, userId, role, addedAt } }) {
      team_members.put({ team_id: teamId, user_id: userId, role, joined_at: new Date(addedAt) });
    },
    MemberRoleChanged({ team_members }, { data: { teamId, userId, role } }) {
      team_members.update({ team_id: teamId, user_id: userId }, { role });
    },
    MemberRemoved({ team_members }, { data: { teamId, userId } }) {
      team_members.delete({ team_id: teamId, user_id: userId });
    },
    WebhookSecretRotated({ teams }, { data: { teamId, generation, rotatedAt } }) {
      teams.update({ id: teamId }, { webhook_secret_generation: generation, webhook_secret_rotated_at: new Date(rotatedAt) });
    },
  },
});
