import type { TeamEvent } from '../domain/team/events.js';
import { defineProjection } from './projection.js';
import type { InvitesTable } from './read-models.js';

/** A team's invites (never their tokens); an invite token's id finds its team here. */
export const invitesProjection = defineProjection<{ invites: InvitesTable }, TeamEvent>({
  name: 'invites',
  tables: ['invites'],
  handles: new Set(['InviteIssued', 'InviteRevoked', 'InviteAccepted']),
  project(db, event) {
    switch (event.type) {
      case 'InviteIssued': {
        const { inviteId, teamId, email, role, expiresAt, issuedAt } = event.data;
        return [
          db
            .insertInto('invites')
            .values({ id: inviteId, team_id: teamId, email, role, status: 'pending', expires_at: new Date(expiresAt), created_at: new Date(issuedAt) })
            .onConflict((conflict) => conflict.column('id').doNothing())
            .compile(),
        ];
      }
      case 'InviteRevoked':
        return [db.updateTable('invites').set({ status: 'revoked' }).where('id', '=', event.data.inviteId).compile()];
      case 'InviteAccepted':
        return [db.updateTable('invites').set({ status: 'accepted' }).where('id', '=', event.data.inviteId).compile()];
      default:
        return [];
    }
  },
});
