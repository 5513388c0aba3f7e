import { randomUUID } from 'node:crypto';
import { notFound } from '../domain/decider.js';
import type { TeamCommand } from '../domain/team/commands.js';
import { teamDecider } from '../domain/team/decider.js';
import { teamStreamId } from '../domain/team/identity.js';
import type { TeamRole } from '../domain/team/roles.js';
import { normalizeEmail, userIdForEmail } from '../domain/user/identity.js';
import type { LogPosition } from '../eventstore/types.js';
import { newSecretToken, readSecretToken } from '../infra/secret-tokens.js';
import { aggregateStream, type CommandDependencies, commandHandler } from './handle-command.js';
import { loadUser, registerUser, type Session } from './users.js';

const handleTeam = commandHandler(teamDecider, teamStreamId, (_team, teamId) => teamId);

export interface TeamChange {
  /** False when the team already was as asked (the command was a no-op). */
  changed: boolean;
  position: LogPosition | null;
}

const userActor = (userId: string) => `user:${userId}` as const;

/** The team's members and their roles as the team's stream has it now; none when there is no such team. */
export async function teamMembers(deps: CommandDependencies, teamId: string): Promise<Readonly<Record<string, TeamRole>>> {
  const { state } = await aggregateStream(deps, teamDecider, teamStreamId(teamId));
  return state.status === 'active' ? state.members : {};
}

/** The user's role in the team as the team's stream has it now; null when they are not a member (or no such team). */
export async function teamRoleOf(deps: CommandDependencies, teamId: string, userId: string): Promise<TeamRole | null> {
  return (await teamMembers(deps, teamId))[userId] ?? null;
}

export async function createTeam(
  deps: CommandDependencies,
  input: { name: string; ownerId: string; now: Date },
): Promise<{ teamId: string; name: string; position: LogPosition | null }> {
  const teamId = randomUUID();
  const result = await handleTeam(
    deps,
    teamId,
    { type: 'CreateTeam', teamId, name: input.name, ownerId: input.ownerId, now: input.now },
    { actor: userActor(input.ownerId) },
  );
  return { teamId, name: input.name, position: result.position };
}

async function runTeamCommand(deps: CommandDependencies, teamId: string, actorId: string, command: TeamCommand): Promise<TeamChange> {
  const result = await handleTeam(deps, teamId, command, { actor: userActor(actorId) });
  return { changed: result.events.length > 0, position: result.position };
}

export function changeMemberRole(
  deps: CommandDependencies,
  input: { teamId: string; actorId: string; userId: string; role: TeamRole; now: Date },
): Promise<TeamChange> {
  const { teamId, actorId, userId, role, now } = input;
  return runTeamCommand(deps, teamId, actorId, { type: 'ChangeMemberRole', actorId, userId, role, now });
}

export function removeMember(
  deps: CommandDependencies,
  input: { teamId: string; actorId: string; userId: string; now: Date },
): Promise<TeamChange> {
  const { teamId, actorId, userId, now } = input;
  return runTeamCommand(deps, teamId, actorId, { type: 'RemoveMember', actorId, userId, now });
}

/** The team signs webhooks with the next generation of its secret; the previous one keeps signing for a day. */
export async function rotateWebhookSecret(
  deps: CommandDependencies,
  input: { teamId: string; actorId: string; now: Date },
): Promise<{ generation: number; position: LogPosition | null }> {
  const { teamId, actorId, now } = input;
  const result = await handleTeam(deps, teamId, { type: 'RotateWebhookSecret', actorId, now }, { actor: userActor(actorId) });
  if (result.state.status !== 'active') throw notFound('team not found');
  return { generation: result.state.webhookSecretGeneration, position: result.position };
}

/** The token is returned here, once; the team keeps only its hash. */
export async function issueInvite(
  deps: CommandDependencies,
  input: { teamId: string; actorId: string; email: string; role: TeamRole; expiresAt: Date; now: Date },
): Promise<{ inviteId: string; token: string; expiresAt: Date; position: LogPosition | null }> {
  const { teamId, actorId, email, role, expiresAt, now } = input;
  const secret = newSecretToken();
  const change = await runTeamCommand(deps, teamId, actorId, {
    type: 'IssueInvite', actorId, inviteId: secret.id, email, role, tokenHash: secret.hash, expiresAt, now,
  });
  return { inviteId: secret.id, token: secret.token, expiresAt, position: change.position };
}

export function revokeInvite(
  deps: CommandDependencies,
  input: { teamId: string; actorId: string; inviteId: string; now: Date },
): Promise<TeamChange> {
  const { teamId, actorId, inviteId, now } = input;
  return runTeamCommand(deps, teamId, actorId, { type: 'RevokeInvite', actorId, inviteId, now });
}

function acceptCommand(input: { token: string; userId: string; email: string; now: Date }): TeamCommand {
  const presented = readSecretToken(input.token);
  if (!presented) throw notFound('invite not found');
  return { type: 'AcceptInvite', inviteId: presented.id, tokenHash: presented.hash, userId: input.userId, email: input.email, now: input.now };
}

/** Decides, without writing anything, whether this person could accept the invite now: throws the reason when not. */
export async function assertInviteAcceptable(
  deps: CommandDependencies,
  input: { teamId: string; token: string; userId: string; email: string; now: Date },
): Promise<void> {
  const { state } = await aggregateStream(deps, teamDecider, teamStreamId(input.teamId));
  teamDecider.decide(acceptCommand(input), state);
}

/** The signed-in user joins the team with the invite's role, if the invite was sent to their email. */
export async function acceptInvite(
  deps: CommandDependencies,
  input: { teamId: string; token: string; userId: string; now: Date },
): Promise<{ teamId: string; role: TeamRole; position: LogPosition | null }> {
  const user = await loadUser(deps, input.userId);
  if (!user) throw notFound('user not found');
  const result = await handleTeam(
    deps,
    input.teamId,
    acceptCommand({ token: input.token, userId: user.userId, email: user.email, now: input.now }),
    { actor: userActor(user.userId) },
  );
  const role = result.state.status === 'active' ? result.state.members[user.userId] : undefined;
  if (!role) throw new Error(`accepting an invite to team ${input.teamId} left ${user.userId} outside it`);
  return { teamId: input.teamId, role, position: result.position };
}

/**
 * Registration with an invite token: the invite is checked before the account exists, so a bad invite creates no
 * account; then the new user joins like anyone accepting.
 */
export async function registerWithInvite(
  deps: CommandDependencies,
  input: Parameters<typeof registerUser>[1] & { invite: { teamId: string; token: string } },
): Promise<Session & { email: string; name: string; joined: { teamId: string; role: TeamRole } }> {
  const { invite, ...registration } = input;
  const email = normalizeEmail(registration.email);
  await assertInviteAcceptable(deps, { ...invite, userId: userIdForEmail(email), email, now: input.now });
  const session = await registerUser(deps, registration);
  const joined = await acceptInvite(deps, { ...invite, userId: session.userId, now: input.now });
  return { ...session, position: joined.position, joined: { teamId: joined.teamId, role: joined.role } };
}
