import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, signUp, signUpWithTeam, type TeamOwner } from './support/accounts.js';
import { startTestApp, type TestApp } from './support/app.js';

describe('teams and members', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.stop();
  });

  const roleOf = async (owner: TeamOwner, userId: string) => {
    const team = await app.http.get(`/teams/${owner.teamId}`, { token: owner.token });
    return team.body.members.find((member: { userId: string }) => member.userId === userId)?.role;
  };

  describe('POST /teams and GET /teams', () => {
    it('creates a team whose creator is its owner, visible in /teams and /me right away', async () => {
      const user = await signUp(app.http);
      const created = await app.http.post('/teams', { name: '  Payments  ' }, { token: user.token });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({ id: expect.any(String), name: 'Payments' });
      const teams = await app.http.get('/teams', { token: user.token });
      expect(teams.body).toEqual([{ id: created.body.id, name: 'Payments', role: 'owner' }]);
      const me = await app.http.get('/me', { token: user.token });
      expect(me.body.teams).toEqual([{ id: created.body.id, name: 'Payments', role: 'owner' }]);
    });

    it('lists only the teams the user belongs to', async () => {
      const owner = await signUpWithTeam(app.http, 'Mine');
      await signUpWithTeam(app.http, 'Theirs');
      const teams = await app.http.get('/teams', { token: owner.token });
      expect(teams.body.map((team: { id: string }) => team.id)).toEqual([owner.teamId]);
    });

    it.each([
      ['a blank name', { name: '  ' }],
      ['a name of the wrong type', { name: 7 }],
      ['an unknown field', { name: 'Ops', owner: 'me' }],
      ['no name', {}],
    ])('refuses %s with 400', async (_, body) => {
      const user = await signUp(app.http);
      const response = await app.http.post('/teams', body, { token: user.token });
      expect(response.status).toBe(400);
      expect(response.body.title).toBe('Validation Failed');
    });

    it('requires a signed-in user', async () => {
      expect((await app.http.post('/teams', { name: 'Ops' })).status).toBe(401);
      expect((await app.http.get('/teams')).status).toBe(401);
    });

    it('replays the same team for the same Idempotency-Key and body, and refuses the key with another body', async () => {
      const user = await signUp(app.http);
      const key = randomUUID();
      const first = await app.http.post('/teams', { name: 'Ops' }, { token: user.token, headers: { 'idempotency-key': key } });
      const replay = await app.http.post('/teams', { name: 'Ops' }, { token: user.token, headers: { 'idempotency-key': key } });
      expect(first.status).toBe(201);
      expect(replay.status).toBe(201);
      expect(replay.body.id).toBe(first.body.id);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      const other = await app.http.post('/teams', { name: 'Other' }, { token: user.token, headers: { 'idempotency-key': key } });
      expect(other.status).toBe(422);
      expect(other.body.code).toBe('idempotency_key_reused');
      expect((await app.http.get('/teams', { token: user.token })).body).toHaveLength(1);
    });

    it('waits for the position a command returned when a query names it', async () => {
      const user = await signUp(app.http);
      const created = await app.http.post('/teams', { name: 'Positioned' }, { token: user.token });
      const position = created.headers.get('x-alertops-position');
      expect(position).toMatch(/^\d+-\d+$/);
      const team = await app.http.get(`/teams/${created.body.id}?position=${position}`, { token: user.token });
      expect(team.status).toBe(200);
      expect(team.headers.get('x-alertops-consistency')).toBeNull();
      expect(team.body.name).toBe('Positioned');
      const viaHeader = await app.http.get(`/teams/${created.body.id}`, { token: user.token, headers: { 'x-alertops-position': position! } });
      expect(viaHeader.status).toBe(200);
      expect((await app.http.get(`/teams/${created.body.id}?position=yesterday`, { token: user.token })).status).toBe(400);
    });
  });

  describe('GET /teams/:teamId', () => {
    it('shows members with email, name and role; the webhook secret only to owners and admins', async () => {
      const owner = await signUpWithTeam(app.http, 'Platform');
      const admin = await addMember(app.http, owner, 'admin');
      const member = await addMember(app.http, owner, 'member');
      const viewer = await addMember(app.http, owner, 'viewer');

      const asOwner = await app.http.get(`/teams/${owner.teamId}`, { token: owner.token });
      expect(asOwner.status).toBe(200);
      expect(asOwner.body).toEqual({
        id: owner.teamId,
        name: 'Platform',
        webhookSecret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
        members: [
          { userId: owner.userId, email: owner.email, name: 'Test User', role: 'owner' },
          { userId: admin.userId, email: admin.email, name: 'Test User', role: 'admin' },
          { userId: member.userId, email: member.email, name: 'Test User', role: 'member' },
          { userId: viewer.userId, email: viewer.email, name: 'Test User', role: 'viewer' },
        ],
      });
      expect((await app.http.get(`/teams/${owner.teamId}`, { token: admin.token })).body.webhookSecret).toBe(asOwner.body.webhookSecret);
      for (const reader of [member, viewer]) {
        const response = await app.http.get(`/teams/${owner.teamId}`, { token: reader.token });
        expect(response.status).toBe(200);
        expect(response.body).not.toHaveProperty('webhookSecret');
      }
    });

    it('answers a team id that is not a uuid with 400 and an unknown team with 404', async () => {
      const user = await signUp(app.http);
      expect((await app.http.get('/teams/not-a-uuid', { token: user.token })).status).toBe(400);
      expect((await app.http.get(`/teams/${randomUUID()}`, { token: user.token })).status).toBe(404);
    });
  });

  describe('PATCH and DELETE /teams/:teamId/members/:userId', () => {
    it('lets an owner change a role', async () => {
      const owner = await signUpWithTeam(app.http);
      const member = await addMember(app.http, owner, 'member');
      const changed = await app.http.patch(`/teams/${owner.teamId}/members/${member.userId}`, { role: 'admin' }, { token: owner.token });
      expect(changed.status).toBe(200);
      expect(changed.body).toEqual({ userId: member.userId, role: 'admin' });
      expect(await roleOf(owner, member.userId)).toBe('admin');
    });

    it('lets an admin manage non-owners but not grant or change the owner role', async () => {
      const owner = await signUpWithTeam(app.http);
      const admin = await addMember(app.http, owner, 'admin');
      const member = await addMember(app.http, owner, 'member');
      const path = (userId: string) => `/teams/${owner.teamId}/members/${userId}`;
      expect((await app.http.patch(path(member.userId), { role: 'viewer' }, { token: admin.token })).status).toBe(200);
      expect((await app.http.patch(path(member.userId), { role: 'owner' }, { token: admin.token })).status).toBe(403);
      expect((await app.http.patch(path(owner.userId), { role: 'member' }, { token: admin.token })).status).toBe(403);
      expect((await app.http.delete(path(owner.userId), { token: admin.token })).status).toBe(403);
      expect(await roleOf(owner, owner.userId)).toBe('owner');
    });

    it('refuses members and viewers who try to manage members with 403', async () => {
      const owner = await signUpWithTeam(app.http);
      const member = await addMember(app.http, owner, 'member');
      const viewer = await addMember(app.http, owner, 'viewer');
      const path = (userId: string) => `/teams/${owner.teamId}/members/${userId}`;
      expect((await app.http.patch(path(viewer.userId), { role: 'member' }, { token: member.token })).status).toBe(403);
      expect((await app.http.patch(path(member.userId), { role: 'viewer' }, { token: viewer.token })).status).toBe(403);
      expect((await app.http.delete(path(member.userId), { token: viewer.token })).status).toBe(403);
      expect(await roleOf(owner, member.userId)).toBe('member');
    });

    it('keeps at least one owner: the last one can be neither demoted nor removed', async () => {
      const owner = await signUpWithTeam(app.http);
      const path = `/teams/${owner.teamId}/members/${owner.userId}`;
      const demoted = await app.http.patch(path, { role: 'admin' }, { token: owner.token });
      expect(demoted.status).toBe(409);
      expect(demoted.body.code).toBe('last_owner');
      expect((await app.http.delete(path, { token: owner.token })).status).toBe(409);

      const coOwner = await addMember(app.http, owner, 'owner');
      expect((await app.http.patch(path, { role: 'admin' }, { token: owner.token })).status).toBe(200);
      expect((await app.http.delete(`/teams/${owner.teamId}/members/${coOwner.userId}`, { token: owner.token })).status).toBe(403);
      expect(await roleOf({ ...coOwner, teamId: owner.teamId }, owner.userId)).toBe('admin');
    });

    it('takes access away from a removed member at once', async () => {
      const owner = await signUpWithTeam(app.http);
      const member = await addMember(app.http, owner, 'member');
      expect((await app.http.get(`/teams/${owner.teamId}`, { token: member.token })).status).toBe(200);
      expect((await app.http.delete(`/teams/${owner.teamId}/members/${member.userId}`, { token: owner.token })).status).toBe(204);
      expect((await app.http.get(`/teams/${owner.teamId}`, { token: member.token })).status).toBe(404);
      expect((await app.http.get('/teams', { token: member.token })).body).toEqual([]);
      expect(await roleOf(owner, member.userId)).toBeUndefined();
    });

    it('answers someone who is not a member with 404, and bad ids or roles with 400', async () => {
      const owner = await signUpWithTeam(app.http);
      const outsider = await signUp(app.http);
      const base = `/teams/${owner.teamId}/members`;
      expect((await app.http.patch(`${base}/${outsider.userId}`, { role: 'admin' }, { token: owner.token })).status).toBe(404);
      expect((await app.http.delete(`${base}/${outsider.userId}`, { token: owner.token })).status).toBe(404);
      expect((await app.http.patch(`${base}/not-a-uuid`, { role: 'admin' }, { token: owner.token })).status).toBe(400);
      expect((await app.http.patch(`${base}/${owner.userId}`, { role: 'emperor' }, { token: owner.token })).status).toBe(400);
      expect((await app.http.patch(`${base}/${owner.userId}`, { role: 'owner', extra: 1 }, { token: owner.token })).status).toBe(400);
    });
  });

  describe('another team', () => {
    it('is 404 on every team route for a user who is not in it', async () => {
      const owner = await signUpWithTeam(app.http);
      const member = await addMember(app.http, owner, 'member');
      const invite = await app.http.post(`/teams/${owner.teamId}/invites`, { email: 'later@example.com', role: 'viewer' }, { token: owner.token });
      const stranger = await signUpWithTeam(app.http, 'Elsewhere');
      const { teamId } = owner;
      const token = stranger.token;
      const attempts = [
        app.http.get(`/teams/${teamId}`, { token }),
        app.http.patch(`/teams/${teamId}/members/${member.userId}`, { role: 'admin' }, { token }),
        app.http.delete(`/teams/${teamId}/members/${member.userId}`, { token }),
        app.http.post(`/teams/${teamId}/invites`, { email: 'x@example.com', role: 'member' }, { token }),
        app.http.get(`/teams/${teamId}/invites`, { token }),
        app.http.delete(`/teams/${teamId}/invites/${invite.body.id}`, { token }),
        app.http.get(`/teams/${teamId}/audit`, { token }),
        app.http.get(`/teams/${teamId}/alerts`, { token }),
      ];
      for (const response of await Promise.all(attempts)) expect(response.status).toBe(404);
      expect(await roleOf(owner, member.userId)).toBe('member');
      const invites = await app.http.get(`/teams/${teamId}/invites`, { token: owner.token });
      expect(invites.body[0].status).toBe('pending');
    });
  });
});
