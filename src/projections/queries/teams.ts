import type { Kysely } from 'kysely';
import type { TeamRole } from '../../domain/team/roles.js';
import type { ReadModels } from '../read-models.js';

export interface TeamMembership {
  id: string;
  name: string;
  role: TeamRole;
}

/** The teams a user belongs to now, with their role in each, by name. */
export function teamsOf(db: Kysely<ReadModels>, userId: string): Promise<TeamMembership[]> {
  return db
    .selectFrom('team_members')
    .innerJoin('teams', 'teams.id', 'team_members.team_id')
    .select(['teams.id', 'teams.name', 'team_members.role'])
    .where('team_members.user_id', '=', userId)
    .orderBy('teams.name')
    .orderBy('teams.id')
    .execute();
}

/** Which of these users are members of the team now, as the read model has it. */
export async function membersAmong(db: Kysely<ReadModels>, teamId: string, userIds: readonly string[]): Promise<string[]> {
  const unique = [...new Set(userIds)];
  if (unique.length === 0) return [];
  const members = await db.selectFrom('team_members').select('user_id').where('team_id', '=', teamId).where('user_id', 'in', unique).execute();
  return members.map((member) => member.user_id);
}
