import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, signUp, signUpWithTeam, type TeamOwner } from './support/accounts.js';
import { startTestApp, type TestApp } from './support/app.js';
import { type SmtpSink, startSmtpSink } from './support/smtp-sink.js';
import { waitFor } from './support/wait.js';

const uniqueEmail = (prefix = 'invitee') => `${prefix}-${randomBytes(6).toString('hex')}@example.com`;

describe('invites', () => {
  let app: TestApp;
  let smtp: SmtpSink;
  let clockOffsetMs = 0;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    app = await startTestApp({ SMTP_URL: smtp.url });
    app.runtime.services.clock = () => new Date(Date.now() + clockOffsetMs);
  });
  afterAll(async () => {
    await app?.stop();
    await smtp?.stop();
  });

  const invite = async (owner: { teamId: string; token: string }, body: Record<string, unknown>) => {
    const response = await app.http.post(`/teams/${owner.teamId}/invites`, body, { token: owner.token });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body as { id: string; token: string; expiresAt: string };
  };
  const statusOf = async (owner: TeamOwner, inviteId: string) => {
    const list = await app.http.get(`/teams/${owner.teamId}/invites`, { token: owner.token });
    return list.body.find((entry: { id: string }) => entry.id === inviteId)?.status;
  };

  describe('issuing and listing', () => {
    it('returns the token once, lists the invite without it, and keeps only its hash', async () => {
      const owner = await signUpWithTeam(app.http);
      const email = uniqueEmail();
      const before = Date.now();
      const issued = await invite(owner, { email: email.toUpperCase(), role: 'member', ttlMinutes: 60 });
      expect(issued.token).toMatch(new RegExp(`^${issued.id}\\.[A-Za-z0-9_-]{43}$`));
      const expiresAt = Date.parse(issued.expiresAt);
      expect(expiresAt).toBeGreaterThanOrEqual(before + 60 * 60_000);
      expect(expiresAt).toBeLessThan(Date.now() + 61 * 60_000);

      const list = await app.http.get(`/teams/${owner.teamId}/invites`, { token: owner.token });
      expect(list.body).toEqual([{ id: issued.id, email, role: 'member', status: 'pending', expiresAt: issued.expiresAt }]);
      const secret = issued.token.split('.')[1]!;
      const { rows } = await app.database.pool.query('select 1 from events where data::text like $1', [`%${secret}%`]);
      expect(rows).toEqual([]);
    });

    it('e-mails the token to the invited address', async () => {
      const owner = await signUpWithTeam(app.http, 'Search');
      const email = uniqueEmail('mailed');
      const issued = await invite(owner, { email, role: 'viewer' });
      const mail = await waitFor('the invite e-mail', () => smtp.messages.find((message) => message.to.includes(email)));
      expect(mail.subject).toBe('Invitation to Search on AlertOps');
      expect(mail.text).toContain(issued.token);
      expect(mail.messageId).toBe(`<invite-${issued.id}@alertops>`);
    });

    it('defaults to an expiry a week ahead', async () => {
      const owner = await signUpWithTeam(app.http);
      const issued = await invite(owner, { email: uniqueEmail(), role: 'member' });
      expect(Date.parse(issued.expiresAt) - Date.now()).toBeGreaterThan(7 * 24 * 3600_000 - 60_000);
    });

    it('lets an admin invite below owner, and refuses an admin inviting an owner, a member or a viewer inviting at all', async () => {
      const owner = await signUpWithTeam(app.http);
      const admin = await addMember(app.http, owner, 'admin');
      const member = await addMember(app.http, owner, 'member');
      const viewer = await addMember(app.http, owner, 'viewer');
      const path = `/teams/${owner.teamId}/invites`;
      expect((await app.http.post(path, { email: uniqueEmail(), role: 'admin' }, { token: admin.token })).status).toBe(201);
      expect((await app.http.post(path, { email: uniqueEmail(), role: 'owner' }, { token: admin.token })).status).toBe(403);
      expect((await app.http.post(path, { email: uniqueEmail(), role: 'member' }, { token: member.token })).status).toBe(403);
      expect((await app.http.post(path, { email: uniqueEmail(), role: 'viewer' }, { token: viewer.token })).status).toBe(403);
      expect((await app.http.get(path, { token: member.token })).status).toBe(403);
      expect((await app.http.get(path, { token: owner.token })).body).toHaveLength(4);
    });

    it.each([
      ['an invalid email', { email: 'nobody', role: 'member' }],
      ['an unknown role', { email: 'a@example.com', role: 'superuser' }],
      ['a zero ttl', { email: 'a@example.com', role: 'member', ttlMinutes: 0 }],
      ['a fractional ttl', { email: 'a@example.com', role: 'member', ttlMinutes: 1.5 }],
      ['a ttl of the wrong type', { email: 'a@example.com', role: 'member', ttlMinutes: '60' }],
      ['an unknown field', { email: 'a@example.com', role: 'member', note: 'hi' }],
    ])('refuses %s with 400', async (_, body) => {
      const owner = await signUpWithTeam(app.http);
      expect((await app.http.post(`/teams/${owner.teamId}/invites`, body, { token: owner.token })).status).toBe(400);
    });
  });

  describe('accepting', () => {
    it('registering with the token joins the team with its role, once', async () => {
      const owner = await signUpWithTeam(app.http, 'Billing');
      const email = uniqueEmail();
      const issued = await invite(owner, { email, role: 'admin' });
      const newcomer = await signUp(app.http, { email: email.toUpperCase(), inviteToken: issued.token });
      const me = await app.http.get('/me', { token: newcomer.token });
      expect(me.body.teams).toEqual([{ id: owner.teamId, name: 'Billing', role: 'admin' }]);
      expect(await statusOf(owner, issued.id)).toBe('accepted');

      const second = await app.http.post('/auth/register', { email: uniqueEmail(), password: 'password-1', name: 'Late', inviteToken: issued.token });
      expect(second.status).toBe(410);
    });

    it('refuses registering with an invite sent to another address, and creates no account', async () => {
      const owner = await signUpWithTeam(app.http);
      const issued = await invite(owner, { email: uniqueEmail(), role: 'member' });
      const email = uniqueEmail('someone-else');
      const response = await app.http.post('/auth/register', { email, password: 'password-1', name: 'X', inviteToken: issued.token });
      expect(response.status).toBe(403);
      expect((await app.http.post('/auth/login', { email, password: 'password-1' })).status).toBe(401);
      expect(await statusOf(owner, issued.id)).toBe('pending');
    });

    it('refuses registering with an unknown invite token with 404, and creates no account', async () => {
      const email = uniqueEmail();
      const response = await app.http.post('/auth/register', { email, password: 'password-1', name: 'X', inviteToken: `${randomUUID()}.${'x'.repeat(43)}` });
      expect(response.status).toBe(404);
      expect((await app.http.post('/auth/login', { email, password: 'password-1' })).status).toBe(401);
    });

    it('a signed-in user with the invited email accepts it and joins with its role', async () => {
      const owner = await signUpWithTeam(app.http, 'Core');
      const user = await signUp(app.http);
      const issued = await invite(owner, { email: user.email.toUpperCase(), role: 'viewer' });
      const accepted = await app.http.post('/invites/accept', { token: issued.token }, { token: user.token });
      expect(accepted.status).toBe(200);
      expect(accepted.body).toEqual({ teamId: owner.teamId, role: 'viewer' });
      expect((await app.http.get(`/teams/${owner.teamId}`, { token: user.token })).status).toBe(200);

      const again = await app.http.post('/invites/accept', { token: issued.token }, { token: user.token });
      expect(again.status).toBe(410);
      expect(again.body.code).toBe('invite_used');
    });

    it('refuses a user whose email is not the invited one with 403', async () => {
      const owner = await signUpWithTeam(app.http);
      const issued = await invite(owner, { email: uniqueEmail(), role: 'member' });
      const other = await signUp(app.http);
      expect((await app.http.post('/invites/accept', { token: issued.token }, { token: other.token })).status).toBe(403);
      expect((await app.http.get(`/teams/${owner.teamId}`, { token: other.token })).status).toBe(404);
    });

    it('refuses an existing member with 409', async () => {
      const owner = await signUpWithTeam(app.http);
      const member = await addMember(app.http, owner, 'viewer');
      const issued = await invite(owner, { email: member.email, role: 'admin' });
      const response = await app.http.post('/invites/accept', { token: issued.token }, { token: member.token });
      expect(response.status).toBe(409);
      expect(response.body.code).toBe('already_member');
    });

    it('an expired invite is 410 and listed as expired', async () => {
      const owner = await signUpWithTeam(app.http);
      const user = await signUp(app.http);
      const issued = await invite(owner, { email: user.email, role: 'member', ttlMinutes: 5 });
      clockOffsetMs += 6 * 60_000;
      const response = await app.http.post('/invites/accept', { token: issued.token }, { token: user.token });
      expect(response.status).toBe(410);
      expect(response.body.code).toBe('invite_expired');
      expect(await statusOf(owner, issued.id)).toBe('expired');
    });

    it.each([
      ['a forged secret for a real invite', (token: string) => `${token.split('.')[0]}.${randomBytes(32).toString('base64url')}`, 404],
      ['an unknown invite', () => `${randomUUID()}.${randomBytes(32).toString('base64url')}`, 404],
      ['a token that is not shaped like one', () => 'nonsense', 404],
    ])('answers %s with %i', async (_, forge, status) => {
      const owner = await signUpWithTeam(app.http);
      const user = await signUp(app.http);
      const issued = await invite(owner, { email: user.email, role: 'member' });
      expect((await app.http.post('/invites/accept', { token: forge(issued.token) }, { token: user.token })).status).toBe(status);
      expect(await statusOf(owner, issued.id)).toBe('pending');
    });

    it('refuses a token of the wrong type with 400 and an anonymous caller with 401', async () => {
      const user = await signUp(app.http);
      expect((await app.http.post('/invites/accept', { token: 5 }, { token: user.token })).status).toBe(400);
      expect((await app.http.post('/invites/accept', { token: 'x.y' })).status).toBe(401);
    });
  });

  describe('revoking', () => {
    it('revokes a pending invite: it is listed as revoked and accepting it is 410', async () => {
      const owner = await signUpWithTeam(app.http);
      const user = await signUp(app.http);
      const issued = await invite(owner, { email: user.email, role: 'member' });
      expect((await app.http.delete(`/teams/${owner.teamId}/invites/${issued.id}`, { token: owner.token })).status).toBe(204);
      expect(await statusOf(owner, issued.id)).toBe('revoked');
      const response = await app.http.post('/invites/accept', { token: issued.token }, { token: user.token });
      expect(response.status).toBe(410);
      expect(response.body.code).toBe('invite_revoked');
      expect((await app.http.delete(`/teams/${owner.teamId}/invites/${issued.id}`, { token: owner.token })).status).toBe(204);
    });

    it('refuses revoking a used invite with 410', async () => {
      const owner = await signUpWithTeam(app.http);
      const email = uniqueEmail();
      const issued = await invite(owner, { email, role: 'member' });
      await signUp(app.http, { email, inviteToken: issued.token });
      expect((await app.http.delete(`/teams/${owner.teamId}/invites/${issued.id}`, { token: owner.token })).status).toBe(410);
    });

    it('refuses a member revoking with 403; an unknown invite is 404, a bad id 400', async () => {
      const owner = await signUpWithTeam(app.http);
      const member = await addMember(app.http, owner, 'member');
      const issued = await invite(owner, { email: uniqueEmail(), role: 'member' });
      expect((await app.http.delete(`/teams/${owner.teamId}/invites/${issued.id}`, { token: member.token })).status).toBe(403);
      expect((await app.http.delete(`/teams/${owner.teamId}/invites/${randomUUID()}`, { token: owner.token })).status).toBe(404);
      expect((await app.http.delete(`/teams/${owner.teamId}/invites/not-a-uuid`, { token: owner.token })).status).toBe(400);
      expect(await statusOf(owner, issued.id)).toBe('pending');
    });

    it("cannot reach another team's invite through one's own team", async () => {
      const owner = await signUpWithTeam(app.http);
      const issued = await invite(owner, { email: uniqueEmail(), role: 'member' });
      const otherOwner = await signUpWithTeam(app.http);
      expect((await app.http.delete(`/teams/${otherOwner.teamId}/invites/${issued.id}`, { token: otherOwner.token })).status).toBe(404);
      expect(await statusOf(owner, issued.id)).toBe('pending');
    });
  });
});
