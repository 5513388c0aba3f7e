import type { TeamEvent } from '../domain/team/events.js';
import { defineProjection } from './projection.js';
import type { TeamMembersTable, TeamsTable } from './read-models.js';

/** Teams and their current members with roles: what authorization reads on every request. */
export const teamsProjection = defineProjection<{ teams: TeamsTable; team_members: TeamMembersTable }, TeamEvent>({
  name: 'teams',
  tables: ['teams', 'team_members'],
  handles: new Set(['TeamCreated', 'MemberAdded', 'MemberRoleChanged', 'MemberRemoved', 'WebhookSecretRotated']),
  project(db, event) {
    switch (event.type) {
      case 'TeamCreated': {
        const { teamId, name, createdAt } = event.data;
        return [
          db
            .insertInto('teams')
            .values({ id: teamId, name, created_at: new Date(createdAt) })
            .onConflict((conflict) => conflict.column('id').doNothing())
            .compile(),
        ];
      }
      case 'MemberAdded': {
        const { teamId, userId, role, addedAt } = event.data;
        const joined_at = new Date(addedAt);
        return [
          db
            .insertInto('team_members')
            .values({ team_id: teamId, user_id: userId, role, joined_at })
            .onConflict((conflict) => conflict.columns(['team_id', 'user_id']).doUpdateSet({ role, joined_at }))
            .compile(),
        ];
      }
      case 'MemberRoleChanged':
        return [
          db
            .updateTable('team_members')
            .set({ role: event.data.role })
            .where('team_id', '=', event.data.teamId)
            .where('user_id', '=', event.data.userId)
            .compile(),
        ];
      case 'MemberRemoved':
        return [
          db.deleteFrom('team_members').where('team_id', '=', event.data.teamId).where('user_id', '=', event.data.userId).compile(),
        ];
      case 'WebhookSecretRotated':
        return [
          db
            .updateTable('teams')
            .set({ webhook_secret_generation: event.data.generation, webhook_secret_rotated_at: new Date(event.data.rotatedAt) })
            .where('id', '=', event.data.teamId)
            .compile(),
        ];
      default:
        return [];
    }
  },
});
