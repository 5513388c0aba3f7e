import { z } from 'zod';

export const TeamRole = z.enum(['owner', 'admin', 'member', 'viewer']);
export type TeamRole = z.infer<typeof TeamRole>;

export type TeamPermission =
  | 'team:read'
  | 'team:manage'
  | 'members:manage'
  | 'owners:manage'
  | 'invites:manage'
  | 'flows:write'
  | 'schedules:write'
  /** Create and delete maintenance windows. */
  | 'maintenance:write'
  | 'alerts:write'
  | 'integrations:manage'
  | 'api-tokens:manage'
  /** Webhook URLs in full: they often carry credentials (userinfo, tokens in the path or query). */
  | 'webhook-urls:read';

const grants: Record<TeamRole, ReadonlySet<TeamPermission>> = {
  owner: new Set([
    'team:read', 'team:manage', 'members:manage', 'owners:manage', 'invites:manage', 'flows:write', 'schedules:write',
    'alerts:write', 'integrations:manage', 'api-tokens:manage', 'webhook-urls:read', 'maintenance:write',
  ]),
  admin: new Set([
    'team:read', 'members:manage', 'invites:manage', 'flows:write', 'schedules:write', 'alerts:write', 'integrations:manage',
    'api-tokens:manage', 'webhook-urls:read', 'maintenance:write',
  ]),
  member: new Set(['team:read', 'flows:write', 'schedules:write', 'alerts:write', 'webhook-urls:read', 'maintenance:write']),
  viewer: new Set(['team:read']),
};

export function can(role: TeamRole, permission: TeamPermission): boolean {
  return grants[role].has(permission);
}
