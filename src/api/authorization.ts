import { can, type TeamPermission, type TeamRole } from '../domain/team/roles.js';
import { forbiddenProblem, notFoundProblem } from './problem.js';
import type { ApiServices } from './services.js';

/**
 * Decided on every request from current membership, never from claims in a token: a removed member
 * loses access at once. A team the user is not in does not exist for them (404).
 */
export async function authorizeTeam(
  services: Pick<ApiServices, 'db'>,
  userId: string,
  teamId: string,
  permission: TeamPermission,
): Promise<TeamRole> {
  const membership = await services.db
    .selectFrom('team_members')
    .select('role')
    .where('team_id', '=', teamId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (!membership) throw notFoundProblem('team not found');
  if (!can(membership.role, permission)) throw forbiddenProblem(`a team ${membership.role} may not do this`);
  return membership.role;
}
