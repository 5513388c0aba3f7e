import type { Selectable } from 'kysely';
import type { TeamEventOf } from '../domain/team/events.js';
import { defineProjection } from './projection.js';
import type { InvitesTable } from './read-models.js';

/** A team's invites (never their tokens); an invite token's id finds its team here. */
export const invitesProjection = defineProjection<
  { invites: Selectable<InvitesTable> },
  TeamEventOf<'InviteIssued' | 'InviteRevoked' | 'InviteAccepted'>
>()({
  name: 'invites',
  keys: { invites: ['id'] },
  handlers: {
    InviteIssued({ invites }, { data: { inviteId, teamId, email, role, expiresAt, issuedAt } }) {
      invites.put({ id: inviteId, team_id: teamId, email, role, status: 'pending', expires_at: new Date(expiresAt), created_at: new Date(issuedAt) });
    },
    InviteRevoked: ({ invites }, { data }) => invites.update({ id: data.inviteId }, { status: 'revoked' }),
    InviteAccepted: ({ invites }, { data }) => invites.update({ id: data.inviteId }, { status: 'accepted' }),
  },
});
