import type { TeamRole } from './roles.js';

/** `actorId` is the signed-in user; the decider checks their current role in the team, not a claim. */
export type TeamCommand =
  | { type: 'CreateTeam'; teamId: string; name: string; ownerId: string; now: Date }
  | { type: 'ChangeMemberRole'; actorId: string; userId: string; role: TeamRole; now: Date }
  | { type: 'RemoveMember'; actorId: string; userId: string; now: Date }
  | {
      type: 'IssueInvite';
      actorId: string;
      inviteId: string;
      email: string;
      role: TeamRole;
      tokenHash: string;
      expiresAt: Date;
      now: Date;
    }
  | { type: 'RevokeInvite'; actorId: string; inviteId: string; now: Date }
  | { type: 'AcceptInvite'; inviteId: string; tokenHash: string; userId: string; email: string; now: Date }
  | { type: 'RotateWebhookSecret'; actorId: string; now: Date };
