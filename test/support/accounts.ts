import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { HttpClient } from './app.js';

export interface SignedUpUser {
  userId: string;
  email: string;
  password: string;
  token: string;
  refreshToken: string;
}

export interface TeamOwner extends SignedUpUser {
  teamId: string;
}

/** Registers a fresh user through the API. */
export async function signUp(http: HttpClient, overrides: { email?: string; name?: string; inviteToken?: string } = {}): Promise<SignedUpUser> {
  const email = overrides.email ?? `user-${randomBytes(6).toString('hex')}@example.com`;
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  const response = await http.post('/auth/register', {
    email,
    password,
    name: overrides.name ?? 'Test User',
    ...(overrides.inviteToken ? { inviteToken: overrides.inviteToken } : {}),
  });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return { userId: response.body.user.id, email, password, token: response.body.accessToken, refreshToken: response.body.refreshToken };
}

/** Registers a user who owns a new team. */
export async function signUpWithTeam(http: HttpClient, teamName = 'Team'): Promise<TeamOwner> {
  const user = await signUp(http);
  const team = await http.post('/teams', { name: teamName }, { token: user.token });
  expect(team.status, JSON.stringify(team.body)).toBe(201);
  return { ...user, teamId: team.body.id };
}

/** Registers a fresh user who joins the owner's team with `role`, through an invite. */
export async function addMember(http: HttpClient, owner: TeamOwner, role: 'owner' | 'admin' | 'member' | 'viewer'): Promise<SignedUpUser> {
  const email = `member-${randomBytes(6).toString('hex')}@example.com`;
  const invite = await http.post(`/teams/${owner.teamId}/invites`, { email, role }, { token: owner.token });
  expect(invite.status, JSON.stringify(invite.body)).toBe(201);
  return signUp(http, { email, inviteToken: invite.body.token });
}
