import type { ApiTokenHolder } from '../commands/api-tokens.js';
import { teamRoleOf } from '../commands/teams.js';
import { can, type TeamPermission, type TeamRole } from '../domain/team/roles.js';
import { type Integration, integrationOf } from './auth/integration-key.js';
import { forbiddenProblem, notFoundProblem, unauthorized } from './problem.js';
import { IntegrationKeyParams, TeamParams } from './schemas.js';
import type { ApiServices } from './services.js';

/**
 * What a team's read model may decide: reading the team, and working its alerts. Everything else (roles, members,
 * invites, flows, integration keys, the webhook secret) is decided from the team's stream, and the compiler keeps
 * it that way.
 */
export type ReadModelPermission = Extract<TeamPermission, 'team:read' | 'alerts:write' | 'webhook-urls:read'>;

/** A permission in the team the path names (`:teamId`), decided from the team's own stream. */
export interface StreamPermission {
  team: TeamPermission;
  source: 'stream';
}

/** Who may call a route; the routing layer decides it before the handler runs. */
export type RoutePermission =
  /** Anyone: what the route needs to know of the caller is in the body (a password, a refresh token). */
  | 'public'
  /** Any signed-in user: the route names no team, or finds it from the body. */
  | 'signed-in'
  /** Whoever holds the integration key in the path (`:key`): the key is the credential, and opens one flow. */
  | 'integration-key'
  /**
   * A member of the team the path names (`:teamId`) whose role grants this, as the `team_members` read model has it
   * now: a removed member loses access as soon as the projection has applied the removal.
   */
  | ReadModelPermission
  /** The same, decided from the team's own stream, the authority on roles: for privileged commands and secrets. */
  | StreamPermission;

export type TeamRoutePermission = ReadModelPermission | StreamPermission;

export interface AuthenticatedUser {
  id: string;
}

/** Who a request's bearer credential names: a user (access token), or a team's API token. */
export type Authenticated = AuthenticatedUser | { apiToken: ApiTokenHolder };

/** What a team's API token may be granted: what a member has. Routes needing more never see a token's request. */
export type ApiTokenPermission = Extract<TeamPermission, 'team:read' | 'flows:write' | 'schedules:write' | 'alerts:write' | 'webhook-urls:read'>;

export interface SignedInCaller {
  user: AuthenticatedUser;
  actor: `user:${string}`;
}

export interface TeamCaller extends SignedInCaller {
  /** The caller's role in the team the path names. */
  role: TeamRole;
}

/** The caller of a route an API token may call too: the actor and role, and no user to act for. */
export interface TeamActor {
  actor: `user:${string}` | `token:${string}`;
  role: TeamRole;
}

export interface KeyHolder {
  integration: Integration;
  actor: `integration:${string}`;
}

/** What the routing layer hands a handler about its caller, by the route's permission. */
export type CallerOf<P extends RoutePermission> = P extends 'public'
  ? Record<never, never>
  : P extends 'signed-in'
    ? SignedInCaller
    : P extends 'integration-key'
      ? KeyHolder
      : P extends ApiTokenPermission | { team: ApiTokenPermission }
        ? TeamActor
        : TeamCaller;

/** No role: the team does not exist for this user (404); a role without the permission: 403. */
function decide(role: TeamRole | null | undefined, permission: TeamPermission): TeamRole {
  if (!role) throw notFoundProblem('team not found');
  if (!can(role, permission)) throw forbiddenProblem(`a team ${role} may not do this`);
  return role;
}

async function readModelRole(services: Pick<ApiServices, 'db'>, teamId: string, userId: string): Promise<TeamRole | undefined> {
  const membership = await services.db
    .selectFrom('team_members')
    .select('role')
    .where('team_id', '=', teamId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return membership?.role;
}

/**
 * Decided on every request from current membership, never from claims in a token. `params` are the route's parsed
 * path parameters; `caller` is who the bearer credential names, if any.
 */
export async function admit(
  permission: RoutePermission,
  services: ApiServices,
  caller: Authenticated | null,
  params: unknown,
): Promise<CallerOf<RoutePermission> | TeamActor> {
  if (permission === 'public') return {};
  if (permission === 'integration-key') {
    const integration = await integrationOf(services, IntegrationKeyParams.parse(params).key);
    return { integration, actor: `integration:${integration.keyId}` };
  }
  if (!caller) throw unauthorized();
  if ('apiToken' in caller) return admitApiToken(permission, caller.apiToken, params);
  const user = caller;
  const signedIn: SignedInCaller = { user, actor: `user:${user.id}` };
  if (permission === 'signed-in') return signedIn;
  const { teamId } = TeamParams.parse(params);
  const role =
    typeof permission === 'string'
      ? decide(await readModelRole(services, teamId, user.id), permission)
      : decide(await teamRoleOf(services, teamId, user.id), permission.team);
  return { ...signedIn, role };
}

/**
 * An API token acts with its role in its own team only: every other team does not exist for it, and what belongs to
 * a person (their profile, teams, sessions, contact methods) is not its to reach.
 */
function admitApiToken(permission: Exclude<RoutePermission, 'public' | 'integration-key'>, token: ApiTokenHolder, params: unknown): TeamActor {
  if (permission === 'signed-in') throw forbiddenProblem('an API token acts only within its team; this needs a signed-in user');
  const { teamId } = TeamParams.parse(params);
  const role = decide(teamId === token.teamId ? token.role : null, typeof permission === 'string' ? permission : permission.team);
  return { actor: `token:${token.tokenId}`, role };
}

/** Whether a route's caller must present an access token. */
export function requiresSignIn(permission: RoutePermission): boolean {
  return permission !== 'public' && permission !== 'integration-key';
}
