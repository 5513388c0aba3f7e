import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, type SignedUpUser, signUpWithTeam, type TeamOwner } from './support/accounts.js';
import { startRuntime } from '../src/runtime.js';
import { createLogger } from '../src/infra/logger.js';
import { HttpClient, startTestApp, type TestApp } from './support/app.js';

describe('API tokens for automation', () => {
  let app: TestApp;
  let owner: TeamOwner;
  let other: TeamOwner;
  let flowId: string;

  beforeAll(async () => {
    app = await startTestApp();
    owner = await signUpWithTeam(app.http, 'Automation');
    other = await signUpWithTeam(app.http, 'Elsewhere');
    const flow = await app.http.post(
      `/teams/${owner.teamId}/flows`,
      { name: 'deploys', nodes: [{ name: 'later', delaySeconds: 3600, target: { type: 'email', email: 'oncall@example.com' } }] },
      { token: owner.token },
    );
    expect(flow.status).toBe(201);
    flowId = flow.body.id;
  });
  afterAll(async () => {
    await app?.stop();
  });

  const createToken = async (team: TeamOwner | { teamId: string; token: string }, name: string, role: 'member' | 'viewer') => {
    const response = await app.http.post(`/teams/${team.teamId}/api-tokens`, { name, role }, { token: team.token });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body as { id: string; token: string };
  };

  it('a member token works the team’s alerts and flows, recorded as token:<id>; the token is shown once, prefixed aot_', async () => {
    const created = await createToken(owner, 'deploy bot', 'member');
    expect(created.token).toMatch(/^aot_[0-9a-f-]{36}\.[A-Za-z0-9_-]+$/);
    const auth = { token: created.token };

    const alert = await app.http.post(`/teams/${owner.teamId}/alerts`, { flowId, summary: 'deploy failed' }, auth);
    expect(alert.status, JSON.stringify(alert.body)).toBe(201);
    expect((await app.http.post(`/teams/${owner.teamId}/alerts/${alert.body.id}/acknowledge`, undefined, auth)).status).toBeLessThan(300);
    const timeline = await app.http.get(`/teams/${owner.teamId}/alerts/${alert.body.id}/timeline`, auth);
    expect(timeline.status).toBe(200);
    const actors = (timeline.body as { type: string; actor: string }[]).map((entry) => [entry.type, entry.actor]);
    expect(actors).toContainEqual(['AlertTriggered', `token:${created.id}`]);
    expect(actors).toContainEqual(['AlertAcknowledged', `token:${created.id}`]);
    const detail = await app.http.get(`/teams/${owner.teamId}/alerts/${alert.body.id}`, auth);
    expect(detail.body).toMatchObject({ status: 'acknowledged', acknowledgedBy: `token:${created.id}` });

    const flow = await app.http.post(`/teams/${owner.teamId}/flows`, { name: 'made by a token' }, auth);
    expect(flow.status).toBe(201);

    const listed = await app.http.get(`/teams/${owner.teamId}/api-tokens`, { token: owner.token });
    expect(listed.body).toContainEqual({ id: created.id, name: 'deploy bot', role: 'member', createdBy: owner.userId, createdAt: expect.any(String), revokedAt: null });
    expect(JSON.stringify(listed.body)).not.toContain(created.token.split('.')[1]);
  });

  it('a viewer token reads and may not write', async () => {
    const { token } = await createToken(owner, 'dashboard', 'viewer');
    expect((await app.http.get(`/teams/${owner.teamId}/alerts`, { token })).status).toBe(200);
    expect((await app.http.get(`/teams/${owner.teamId}`, { token })).status).toBe(200);
    const write = await app.http.post(`/teams/${owner.teamId}/alerts`, { flowId, summary: 'not allowed' }, { token });
    expect(write.status).toBe(403);
    expect(write.headers.get('content-type')).toContain('application/problem+json');
  });

  it('acts in its own team only: another team is 404 as for a non-member; what belongs to a person is 403', async () => {
    const { token } = await createToken(owner, 'scoped', 'member');
    for (const path of [`/teams/${other.teamId}`, `/teams/${other.teamId}/alerts`, `/teams/${other.teamId}/flows`]) {
      const response = await app.http.get(path, { token });
      expect([path, response.status]).toEqual([path, 404]);
    }
    expect((await app.http.post(`/teams/${other.teamId}/flows`, { name: 'intruder' }, { token })).status).toBe(404);
    const personal: [string, string, unknown][] = [
      ['GET', '/me', undefined],
      ['GET', '/teams', undefined],
      ['POST', '/teams', { name: 'founded by a token' }],
      ['GET', '/me/contact-methods', undefined],
      ['POST', '/auth/logout-all', undefined],
      ['POST', '/auth/password', { currentPassword: 'whatever it is', newPassword: 'a brand new password' }],
    ];
    for (const [method, path, body] of personal) {
      const response = await app.http.request(method, path, body, { token });
      expect([method, path, response.status]).toEqual([method, path, 403]);
    }
  });

  it('never manages the team: tokens, invites and members are for owners and admins', async () => {
    const { token } = await createToken(owner, 'ambitious', 'member');
    expect((await app.http.post(`/teams/${owner.teamId}/api-tokens`, { name: 'spawned', role: 'member' }, { token })).status).toBe(403);
    expect((await app.http.get(`/teams/${owner.teamId}/api-tokens`, { token })).status).toBe(403);
    expect((await app.http.post(`/teams/${owner.teamId}/invites`, { email: 'friend@example.com', role: 'admin' }, { token })).status).toBe(403);
    expect((await app.http.post(`/teams/${owner.teamId}/flows/${flowId}/integration-keys`, undefined, { token })).status).toBe(403);
  });

  it('owners and admins manage tokens; members and viewers may not', async () => {
    const admin: SignedUpUser = await addMember(app.http, owner, 'admin');
    const member: SignedUpUser = await addMember(app.http, owner, 'member');
    await createToken({ teamId: owner.teamId, token: admin.token }, 'made by an admin', 'viewer');
    expect((await app.http.post(`/teams/${owner.teamId}/api-tokens`, { name: 'x', role: 'viewer' }, { token: member.token })).status).toBe(403);
    expect((await app.http.get(`/teams/${owner.teamId}/api-tokens`, { token: admin.token })).status).toBe(200);
  });

  it('a revoked token is refused with 401 on its very next request, and the audit log shows both events without the hash', async () => {
    const created = await createToken(owner, 'short-lived', 'member');
    expect((await app.http.get(`/teams/${owner.teamId}/alerts`, { token: created.token })).status).toBe(200);
    const revoked = await app.http.delete(`/teams/${owner.teamId}/api-tokens/${created.id}`, { token: owner.token, headers: { Prefer: 'respond-async' } });
    expect(revoked.status).toBeLessThan(300);
    const refused = await app.http.get(`/teams/${owner.teamId}/alerts`, { token: created.token });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect((await app.http.delete(`/teams/${owner.teamId}/api-tokens/${created.id}`, { token: owner.token })).status).toBe(204);

    const audit = await app.http.get(`/teams/${owner.teamId}/audit`, { token: owner.token });
    const entries = (audit.body as { type: string; stream: string; actor: string; data: Record<string, unknown> }[]).filter(
      (entry) => entry.stream === `apitoken-${created.id}`,
    );
    expect(entries.map((entry) => entry.type)).toEqual(['ApiTokenRevoked', 'ApiTokenCreated']);
    expect(entries.every((entry) => entry.actor === `user:${owner.userId}`)).toBe(true);
    expect(entries[1]!.data).toMatchObject({ name: 'short-lived', role: 'member', tokenHash: '[redacted]' });
  });

  it('refuses made-up tokens with 401, and another team’s token id to revoke with 404', async () => {
    const created = await createToken(owner, 'real', 'viewer');
    const [id, secret] = created.token.slice('aot_'.length).split('.') as [string, string];
    for (const token of [`aot_${id}.${secret.slice(0, -2)}xx`, `aot_${id}`, 'aot_garbage', `aot_00000000-0000-4000-8000-000000000000.${secret}`]) {
      expect([token, (await app.http.get(`/teams/${owner.teamId}/alerts`, { token })).status]).toEqual([token, 401]);
    }
    expect((await app.http.delete(`/teams/${other.teamId}/api-tokens/${created.id}`, { token: other.token })).status).toBe(404);
    expect((await app.http.get(`/teams/${owner.teamId}/alerts`, { token: created.token })).status).toBe(200);
  });

  it('refuses a bad name or role naming the field', async () => {
    const blank = await app.http.post(`/teams/${owner.teamId}/api-tokens`, { name: '   ', role: 'member' }, { token: owner.token });
    expect(blank.status).toBe(400);
    expect(blank.body.errors).toContainEqual(expect.objectContaining({ path: 'body.name' }));
    const admin = await app.http.post(`/teams/${owner.teamId}/api-tokens`, { name: 'too mighty', role: 'admin' }, { token: owner.token });
    expect(admin.status).toBe(400);
    expect(admin.body.errors).toContainEqual(expect.objectContaining({ path: 'body.role' }));
  });

  it('lists a page at a time, newest first, with a cap', async () => {
    const team = await signUpWithTeam(app.http, 'Many tokens');
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) ids.push((await createToken(team, `token ${index}`, 'viewer')).id);
    const first = await app.http.get(`/teams/${team.teamId}/api-tokens?limit=3`, { token: team.token });
    expect(first.body.map((token: { name: string }) => token.name)).toEqual(['token 4', 'token 3', 'token 2']);
    const second = await app.http.get(`/teams/${team.teamId}/api-tokens?limit=3&before=${first.body.at(-1).id}`, { token: team.token });
    expect(second.body.map((token: { name: string }) => token.name)).toEqual(['token 1', 'token 0']);
    expect((await app.http.get(`/teams/${team.teamId}/api-tokens?limit=201`, { token: team.token })).status).toBe(400);
    expect(new Set([...first.body, ...second.body].map((token: { id: string }) => token.id))).toEqual(new Set(ids));
  });
  it('a revoke made through one process is refused at once by another that has just admitted the token', async () => {
    const second = await startRuntime({ config: app.config, api: true, workers: false, migrate: false, logger: createLogger(app.config.logLevel) });
    try {
      const other = new HttpClient(second.url!);
      const created = await createToken(owner, 'seen by two processes', 'viewer');
      expect((await other.get(`/teams/${owner.teamId}/alerts`, { token: created.token })).status).toBe(200);
      const revoked = await app.http.delete(`/teams/${owner.teamId}/api-tokens/${created.id}`, { token: owner.token, headers: { Prefer: 'respond-async' } });
      expect(revoked.status).toBeLessThan(300);
      expect((await other.get(`/teams/${owner.teamId}/alerts`, { token: created.token })).status).toBe(401);
    } finally {
      await second.stop();
    }
  });
});
