import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, signUp, signUpWithTeam } from '../support/accounts.js';
import { startTestApp, type TestApp } from '../support/app.js';

/*
 * Already proven in test/identity.e2e.test.ts ("access tokens", "POST /auth/refresh"): alg:none, another key,
 * expired, another token type, garbage, a refresh token presented as an access token, and a spent refresh
 * token revoking its whole family. test/teams.e2e.test.ts proves a removed member loses GET /teams/:teamId.
 * This file adds what those leave open.
 */
describe('access tokens under attack', () => {
  let app: TestApp;
  const key = () => new TextEncoder().encode(app.config.jwtSecret);
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.stop();
  });

  const parts = (token: string) => token.split('.') as [string, string, string];
  const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it("refuses a token whose subject was changed to another user's, the signature kept", async () => {
    const attacker = await signUp(app.http);
    const victim = await signUpWithTeam(app.http, 'Victim');
    expect((await app.http.get('/me', { token: attacker.token })).body.id).toBe(attacker.userId);

    const [header, payload, signature] = parts(attacker.token);
    const forged = `${header}.${encode({ ...decode(payload), sub: victim.userId })}.${signature}`;
    for (const path of ['/me', `/teams/${victim.teamId}`]) {
      const response = await app.http.get(path, { token: forged });
      expect(response.status, path).toBe(401);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    }
  });

  it('refuses a token whose lifetime was stretched, or whose algorithm header was changed, the signature kept', async () => {
    const user = await signUp(app.http);
    const [header, payload, signature] = parts(user.token);
    const tampered = [
      `${header}.${encode({ ...decode(payload), exp: now() + 365 * 86_400 })}.${signature}`,
      `${encode({ ...decode(header), alg: 'HS512' })}.${payload}.${signature}`,
      `${encode({ ...decode(header), alg: 'none' })}.${payload}.`,
      `${encode({ ...decode(header), alg: 'none' })}.${payload}.${signature}`,
      `${header}.${payload}.`,
      `${header}.${payload}`,
    ];
    for (const token of tampered) expect((await app.http.get('/me', { token })).status, token).toBe(401);
    expect((await app.http.get('/me', { token: user.token })).status).toBe(200);
  });

  it('refuses tokens signed with the key that are not access tokens of this API', async () => {
    const user = await signUp(app.http);
    const signed = (claims: { iss?: string; aud?: string; exp?: number; iat?: number; sub?: string }) => {
      const jwt = new SignJWT({ typ: 'access' }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' });
      if (claims.sub !== undefined) jwt.setSubject(claims.sub);
      if (claims.iss !== undefined) jwt.setIssuer(claims.iss);
      if (claims.aud !== undefined) jwt.setAudience(claims.aud);
      if (claims.iat !== undefined) jwt.setIssuedAt(claims.iat);
      if (claims.exp !== undefined) jwt.setExpirationTime(claims.exp);
      return jwt.sign(key());
    };
    const valid = { sub: user.userId, iss: 'alertops', aud: 'alertops-api', iat: now(), exp: now() + 600 };
    expect((await app.http.get('/me', { token: await signed(valid) })).status).toBe(200);

    const refused = {
      'another issuer': { ...valid, iss: 'someone-else' },
      'another audience': { ...valid, aud: 'another-api' },
      'no expiry': { ...valid, exp: undefined },
      'no subject': { ...valid, sub: undefined },
      'a subject that is not a user id': { ...valid, sub: 'admin' },
    };
    for (const [what, claims] of Object.entries(refused)) {
      const response = await app.http.get('/me', { token: await signed(claims) });
      expect(response.status, what).toBe(401);
    }
  });

  it('accepts only the Bearer scheme in the Authorization header', async () => {
    const user = await signUp(app.http);
    for (const authorization of [`Basic ${user.token}`, `Bearer ${user.token} ${user.token}`, `Bearer  ${user.token}`, user.token]) {
      const response = await app.http.get('/me', { headers: { authorization } });
      expect(response.status, authorization).toBe(401);
    }
    expect((await app.http.get(`/me?access_token=${user.token}`)).status).toBe(401);
  });

  it("a removed member's unexpired token loses every team route at once, reads and writes", async () => {
    const owner = await signUpWithTeam(app.http, 'Ops');
    const member = await addMember(app.http, owner, 'admin');
    const flow = await app.http.post(
      `/teams/${owner.teamId}/flows`,
      { name: 'primary', nodes: [{ name: 'mail', delaySeconds: 3600, target: { type: 'email', email: 'oncall@example.com' } }] },
      { token: owner.token },
    );
    const alert = await app.http.post(`/teams/${owner.teamId}/alerts`, { flowId: flow.body.id, summary: 'disk full' }, { token: owner.token });
    const base = `/teams/${owner.teamId}`;
    const attempts = () => [
      app.http.get(`${base}/flows/${flow.body.id}`, { token: member.token }),
      app.http.patch(`${base}/flows/${flow.body.id}`, { name: 'taken over' }, { token: member.token }),
      app.http.get(`${base}/alerts/${alert.body.id}`, { token: member.token }),
      app.http.post(`${base}/alerts/${alert.body.id}/acknowledge`, undefined, { token: member.token }),
      app.http.post(`${base}/invites`, { email: 'friend@example.com', role: 'admin' }, { token: member.token }),
    ];
    expect((await app.http.get(`${base}/flows/${flow.body.id}`, { token: member.token })).status).toBe(200);

    expect((await app.http.delete(`${base}/members/${member.userId}`, { token: owner.token })).status).toBe(204);
    for (const response of await Promise.all(attempts())) expect(response.status, JSON.stringify(response.body)).toBe(404);
    const flowNow = await app.http.get(`${base}/flows/${flow.body.id}`, { token: owner.token });
    expect(flowNow.body.name).toBe('primary');
    expect((await app.http.get(`${base}/alerts/${alert.body.id}`, { token: owner.token })).body.status).toBe('triggered');
    // The token itself is still good: only the membership behind it is gone.
    expect((await app.http.get('/me', { token: member.token })).status).toBe(200);
  });

  it('a demoted member loses the rights of the old role at once, with the same token', async () => {
    const owner = await signUpWithTeam(app.http, 'Ops');
    const member = await addMember(app.http, owner, 'admin');
    const base = `/teams/${owner.teamId}`;
    expect((await app.http.post(`${base}/invites`, { email: `a-${randomUUID()}@example.com`, role: 'member' }, { token: member.token })).status).toBe(201);

    expect((await app.http.patch(`${base}/members/${member.userId}`, { role: 'viewer' }, { token: owner.token })).status).toBe(200);
    expect((await app.http.post(`${base}/invites`, { email: `b-${randomUUID()}@example.com`, role: 'member' }, { token: member.token })).status).toBe(403);
    expect((await app.http.post(`${base}/flows`, { name: 'mine' }, { token: member.token })).status).toBe(403);
    expect((await app.http.get(base, { token: member.token })).status).toBe(200);
  });
});
