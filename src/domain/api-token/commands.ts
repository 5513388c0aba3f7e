import type { ApiTokenRole } from './events.js';

export type ApiTokenCommand =
  | {
      type: 'CreateApiToken';
      tokenId: string;
      teamId: string;
      name: string;
      role: ApiTokenRole;
      tokenHash: string;
      createdBy: string;
      /** The team's tokens not revoked, counted by the command handler: the decider cannot see other streams. */
      liveTokensOfTeam: number;
      now: Date;
    }
  | { type: 'RevokeApiToken'; teamId: string; revokedBy: string; now: Date };
