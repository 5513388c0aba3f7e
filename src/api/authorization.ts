import { teamRoleOf } from '../commands/teams.js';
import { can, type TeamPermission, type TeamRole } from '../domain/team/roles.js';
import { forbiddenProblem, notFoundProblem } from './problem.js';
import type { ApiServices } from './services.js';

/**
 * What a team's read model may decide: reading the team, and working its alerts. Everything else (roles, members,
 * invites, flows, integration keys, the webhook secret) is decided by `authorizeFromStream`, and the compiler keeps
 * it that way.
 */
export type ReadModelPermission = Extract<TeamPermission, 'team:read' | 'alerts:write' | 'webhook-urls:read'>;

/** No role: the team does not exist for this user (404); a role without the permission: 403. */
function decide(role: TeamRole | null | undefined, permission: TeamPermission): TeamRole {
  if (!role) throw notFoundProblem('team not found');
  if (!can(role, permission)) throw forbiddenProblem(`a team ${role} may not do this`);
  return role;
}

/**
 * Decided on every request from current membership, never from claims in a token, as the `team_members` read model
 * has it: a removed member loses access as soon as the projection has applied the removal.
 */
export async function authorizeTeam(
  services: Pick<ApiServices, 'db'>,
  userId: string,
  teamId: string,
  permission: ReadModelPermission,
): Promise<TeamRole> {
  const membership = await services.db
    .selectFrom('team_members')
    .select('role')
    .where('team_id', '=', teamId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return decide(membership?.role, permission);
}

/**
 * Decided from the team's own stream, the authority on roles: a demoted admin loses admin rights the moment the
 * demotion is appended, however far the read models lag behind it.
 */
export async function authorizeFromStream(
  services: Pick<ApiServices, 'eventStore' | 'catalog' | 'streamCache'>,
  userId: string,
  teamId: string,
  permission: TeamPermission,
): Promise<TeamRole> {
  return decide(await teamRoleOf(services, teamId, userId), permission);
}
