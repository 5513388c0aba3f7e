/** Row shapes of every read model, as Kysely sees them. Only projections write these tables. */

export interface TeamMembersTable {
  team_id: string;
  user_id: string;
  role: 'owner' | 'admin' | 'member' | 'viewer';
  joined_at: Date;
}

export type ReadModels = {
  team_members: TeamMembersTable;
};
