import { describe, it } from 'vitest';
import { deciderSpecification } from '../decider-specification.js';
import type { TeamCommand } from './commands.js';
import { teamDecider } from './decider.js';
import type { TeamEvent } from './events.js';
import type { TeamRole } from './roles.js';

const spec = deciderSpecification(teamDecider);
const teamId = '00000000-0000-4000-8000-000000007ea0';
const owner = '00000000-0000-4000-8000-0000000000c1';
const secondOwner = '00000000-0000-4000-8000-0000000000c2';
const admin = '00000000-0000-4000-8000-0000000000c3';
const member = '00000000-0000-4000-8000-0000000000c4';
const viewer = '00000000-0000-4000-8000-0000000000c5';
const stranger = '00000000-0000-4000-8000-0000000000c6';
const inviteId = '00000000-0000-4000-8000-0000000001a1';
const tokenHash = 'a'.repeat(64);
const t0 = new Date('2026-01-01T00:00:00.000Z');
const minutes = (n: number) => new Date(t0.getTime() + n * 60_000);

const created: TeamEvent = {
  type: 'TeamCreated',
  data: { teamId, name: 'Payments', createdBy: owner, createdAt: t0.toISOString() },
};
const added = (userId: string, role: TeamRole, via: string | null = null): TeamEvent => ({
  type: 'MemberAdded',
  data: { teamId, userId, role, inviteId: via, addedAt: t0.toISOString() },
});
const team: TeamEvent[] = [created, added(owner, 'owner'), added(admin, 'admin'), added(member, 'member'), added(viewer, 'viewer')];

const changeRole = (actorId: string, userId: string, role: TeamRole): TeamCommand => ({ type: 'ChangeMemberRole', actorId, userId, role, now: minutes(1) });
const roleChanged = (userId: string, previousRole: TeamRole, role: TeamRole, changedBy: string): TeamEvent => ({
  type: 'MemberRoleChanged',
  data: { teamId, userId, previousRole, role, changedBy, changedAt: minutes(1).toISOString() },
});
const remove = (actorId: string, userId: string): TeamCommand => ({ type: 'RemoveMember', actorId, userId, now: minutes(1) });
const removed = (userId: string, role: TeamRole, removedBy: string): TeamEvent => ({
  type: 'MemberRemoved',
  data: { teamId, userId, role, removedBy, removedAt: minutes(1).toISOString() },
});

const issue = (actorId: string, role: TeamRole = 'member', overrides: Partial<TeamCommand> = {}): TeamCommand =>
  ({ type: 'IssueInvite', actorId, inviteId, email: 'New@Example.com', role, tokenHash, expiresAt: minutes(60), now: t0, ...overrides }) as TeamCommand;
const issued = (role: TeamRole = 'member', issuedBy = owner): TeamEvent => ({
  type: 'InviteIssued',
  data: { teamId, inviteId, email: 'new@example.com', role, tokenHash, issuedBy, issuedAt: t0.toISOString(), expiresAt: minutes(60).toISOString() },
});
const newcomer = '00000000-0000-4000-8000-0000000000c7';
const accept = (overrides: Partial<Extract<TeamCommand, { type: 'AcceptInvite' }>> = {}): TeamCommand => ({
  type: 'AcceptInvite', inviteId, tokenHash, userId: newcomer, email: 'new@example.com', now: minutes(10), ...overrides,
});
const accepted: TeamEvent[] = [
  { type: 'InviteAccepted', data: { teamId, inviteId, userId: newcomer, acceptedAt: minutes(10).toISOString() } },
  { type: 'MemberAdded', data: { teamId, userId: newcomer, role: 'member', inviteId, addedAt: minutes(10).toISOString() } },
];
const revoked: TeamEvent = { type: 'InviteRevoked', data: { teamId, inviteId, revokedBy: owner, revokedAt: minutes(5).toISOString() } };

describe('team decider: creation', () => {
  it('creating a team makes its creator the owner', () => {
    spec
      .given([])
      .when({ type: 'CreateTeam', teamId, name: 'Payments', ownerId: owner, now: t0 })
      .then([created, added(owner, 'owner')]);
  });

  it('a team is created only once', () => {
    spec
      .given(team)
      .when({ type: 'CreateTeam', teamId, name: 'Payments', ownerId: owner, now: t0 })
      .thenThrows('conflict', 'team_exists');
  });
});

describe('team decider: members', () => {
  it('an owner changes any role', () => {
    spec.given(team).when(changeRole(owner, admin, 'viewer')).then([roleChanged(admin, 'admin', 'viewer', owner)]);
  });

  it('an owner makes another member an owner', () => {
    spec.given(team).when(changeRole(owner, member, 'owner')).then([roleChanged(member, 'member', 'owner', owner)]);
  });

  it('an admin changes the role of a non-owner', () => {
    spec.given(team).when(changeRole(admin, viewer, 'member')).then([roleChanged(viewer, 'viewer', 'member', admin)]);
  });

  it('an admin cannot grant the owner role', () => {
    spec.given(team).when(changeRole(admin, member, 'owner')).thenThrows('forbidden');
  });

  it("an admin cannot change an owner's role", () => {
    spec.given(team).when(changeRole(admin, owner, 'member')).thenThrows('forbidden');
  });

  it('a member cannot change roles', () => {
    spec.given(team).when(changeRole(member, viewer, 'member')).thenThrows('forbidden');
  });

  it('a viewer cannot change roles', () => {
    spec.given(team).when(changeRole(viewer, member, 'viewer')).thenThrows('forbidden');
  });

  it('someone outside the team does not find it', () => {
    spec.given(team).when(changeRole(stranger, member, 'viewer')).thenThrows('not_found');
  });

  it('a team that does not exist is not found', () => {
    spec.given([]).when(changeRole(owner, member, 'viewer')).thenThrows('not_found');
  });

  it('changing the role of someone who is not a member is not found', () => {
    spec.given(team).when(changeRole(owner, stranger, 'viewer')).thenThrows('not_found');
  });

  it('giving a member the role they already have changes nothing', () => {
    spec.given(team).when(changeRole(owner, member, 'member')).thenNothingHappens();
  });

  it('the last owner cannot be demoted', () => {
    spec.given(team).when(changeRole(owner, owner, 'admin')).thenThrows('conflict', 'last_owner');
  });

  it('an owner can step down while another owner remains', () => {
    spec
      .given([...team, added(secondOwner, 'owner')])
      .when(changeRole(owner, owner, 'admin'))
      .then([roleChanged(owner, 'owner', 'admin', owner)]);
  });

  it('an owner removes a member', () => {
    spec.given(team).when(remove(owner, member)).then([removed(member, 'member', owner)]);
  });

  it('an admin removes a non-owner', () => {
    spec.given(team).when(remove(admin, viewer)).then([removed(viewer, 'viewer', admin)]);
  });

  it('an admin cannot remove an owner', () => {
    spec.given([...team, added(secondOwner, 'owner')]).when(remove(admin, secondOwner)).thenThrows('forbidden');
  });

  it('a member cannot remove anyone', () => {
    spec.given(team).when(remove(member, viewer)).thenThrows('forbidden');
  });

  it('the last owner cannot be removed', () => {
    spec.given(team).when(remove(owner, owner)).thenThrows('conflict', 'last_owner');
  });

  it('an owner removes another owner while one remains', () => {
    spec.given([...team, added(secondOwner, 'owner')]).when(remove(owner, secondOwner)).then([removed(secondOwner, 'owner', owner)]);
  });

  it('removing someone who is not a member is not found', () => {
    spec.given(team).when(remove(owner, stranger)).thenThrows('not_found');
  });

  it('a removed member can no longer act in the team', () => {
    spec.given([...team, removed(admin, 'admin', owner)]).when(remove(admin, viewer)).thenThrows('not_found');
  });
});

describe('team decider: invites', () => {
  it('an owner invites an email with a role, keeping only the token hash', () => {
    spec.given(team).when(issue(owner)).then([issued()]);
  });

  it('an admin invites with a role below owner', () => {
    spec.given(team).when(issue(admin, 'admin')).then([issued('admin', admin)]);
  });

  it('an admin cannot invite an owner', () => {
    spec.given(team).when(issue(admin, 'owner')).thenThrows('forbidden');
  });

  it('an owner can invite an owner', () => {
    spec.given(team).when(issue(owner, 'owner')).then([issued('owner')]);
  });

  it('a member cannot invite', () => {
    spec.given(team).when(issue(member)).thenThrows('forbidden');
  });

  it('a viewer cannot invite', () => {
    spec.given(team).when(issue(viewer)).thenThrows('forbidden');
  });

  it('an invite must expire in the future', () => {
    spec.given(team).when(issue(owner, 'member', { expiresAt: t0 })).thenThrows('invalid', 'invite_expiry');
  });

  it('accepting an invite with its token joins the team with its role', () => {
    spec.given([...team, issued()]).when(accept()).then(accepted);
  });

  it('the invited email matches in any case', () => {
    spec.given([...team, issued()]).when(accept({ email: 'NEW@example.COM' })).then(accepted);
  });

  it('an invite is used once', () => {
    spec.given([...team, issued(), ...accepted]).when(accept({ userId: stranger })).thenThrows('gone', 'invite_used');
  });

  it('an expired invite is gone', () => {
    spec.given([...team, issued()]).when(accept({ now: minutes(60) })).thenThrows('gone', 'invite_expired');
  });

  it('a revoked invite is gone', () => {
    spec.given([...team, issued(), revoked]).when(accept()).thenThrows('gone', 'invite_revoked');
  });

  it('a token with the wrong secret finds no invite', () => {
    spec.given([...team, issued()]).when(accept({ tokenHash: 'b'.repeat(64) })).thenThrows('not_found');
  });

  it('an unknown invite is not found', () => {
    spec.given(team).when(accept()).thenThrows('not_found');
  });

  it('an invite accepted by a user with another email is forbidden', () => {
    spec.given([...team, issued()]).when(accept({ email: 'someone@example.com' })).thenThrows('forbidden');
  });

  it('a member accepting an invite to their own team is a conflict', () => {
    spec.given([...team, issued()]).when(accept({ userId: member })).thenThrows('conflict', 'already_member');
  });

  it('an admin revokes a pending invite', () => {
    spec
      .given([...team, issued()])
      .when({ type: 'RevokeInvite', actorId: admin, inviteId, now: minutes(5) })
      .then([{ type: 'InviteRevoked', data: { teamId, inviteId, revokedBy: admin, revokedAt: minutes(5).toISOString() } }]);
  });

  it('revoking a revoked invite changes nothing', () => {
    spec.given([...team, issued(), revoked]).when({ type: 'RevokeInvite', actorId: owner, inviteId, now: minutes(6) }).thenNothingHappens();
  });

  it('a used invite cannot be revoked', () => {
    spec.given([...team, issued(), ...accepted]).when({ type: 'RevokeInvite', actorId: owner, inviteId, now: minutes(11) }).thenThrows('gone', 'invite_used');
  });

  it('revoking an unknown invite is not found', () => {
    spec.given(team).when({ type: 'RevokeInvite', actorId: owner, inviteId, now: minutes(5) }).thenThrows('not_found');
  });

  it('a member cannot revoke an invite', () => {
    spec.given([...team, issued()]).when({ type: 'RevokeInvite', actorId: member, inviteId, now: minutes(5) }).thenThrows('forbidden');
  });
});

describe('team decider: webhook secret', () => {
  const rotate = (actorId: string, at = minutes(30)): TeamCommand => ({ type: 'RotateWebhookSecret', actorId, now: at });
  const rotated = (generation: number, rotatedBy: string, at = minutes(30)): TeamEvent => ({
    type: 'WebhookSecretRotated',
    data: { teamId, generation, rotatedBy, rotatedAt: at.toISOString() },
  });

  it('an owner rotates the secret from generation 0 to 1, recording only the generation', () => {
    spec.given(team).when(rotate(owner)).then([rotated(1, owner)]);
  });

  it('an admin rotates again: each rotation is the next generation', () => {
    spec.given([...team, rotated(1, owner, minutes(5))]).when(rotate(admin)).then([rotated(2, admin)]);
  });

  it('members and viewers may not rotate the secret', () => {
    spec.given(team).when(rotate(member)).thenThrows('forbidden');
    spec.given(team).when(rotate(viewer)).thenThrows('forbidden');
  });

  it('someone outside the team does not see it at all', () => {
    spec.given(team).when(rotate(stranger)).thenThrows('not_found');
    spec.given([]).when(rotate(owner)).thenThrows('not_found');
  });
});
