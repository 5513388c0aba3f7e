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
  | 'alerts:write'
  | 'integrations:manage';

const grants: Record<TeamRole, ReadonlySet<TeamPermission>> = {
  owner: new Set([
    'team:read', 'team:manage', 'members:manage', 'owners:manage', 'invites:manage', 'flows:write', 'alerts:write',
    'integrations:manage',
  ]),
  admin: new Set(['team:read', 'members:manage', 'invites:manage', 'flows:write', 'alerts:write', 'integrations:manage']),
  member: new Set(['team:read', 'flows:write', 'alerts:write']),
  viewer: new Set(['team:read']),
};

export function can(role: TeamRole, permission: TeamPermission): boolean {
  return grants[role].has(permission);
}
