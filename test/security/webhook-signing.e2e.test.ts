import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPosition } from '../../src/eventstore/types.js';
import { addMember, signUp, signUpWithTeam, type TeamOwner } from '../support/accounts.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { waitFor } from '../support/wait.js';
import { type ReceivedWebhook, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

/** The payload a Standard Webhooks receiver accepts from this request with this secret, or the reason it refuses. */
function verifiedWith(secret: string, request: ReceivedWebhook): unknown {
  try {
    return new Webhook(secret).verify(request.rawBody.toString('utf8'), request.headers as Record<string, string>);
  } catch (error) {
    return (error as Error).message;
  }
}

describe('webhook signing secrets', () => {
  let app: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.stop();
  });

  const secretOf = async (owner: TeamOwner) => (await app.http.get(`/teams/${owner.teamId}`, { token: owner.token })).body.webhookSecret as string;

  /** Triggers a one-step flow aimed at the receiver and returns the page it got. */
  async function page(owner: TeamOwner, name: string): Promise<ReceivedWebhook> {
    const flow = await app.http.post(
      `/teams/${owner.teamId}/flows`,
      { name, nodes: [{ name, delaySeconds: 0, target: { type: 'webhook', url: `${receiver.url}/${name}` } }] },
      { token: owner.token },
    );
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    const alert = await app.http.post(`/teams/${owner.teamId}/alerts`, { flowId: flow.body.id, summary: name }, { token: owner.token });
    expect(alert.status).toBe(201);
    return waitFor(`the page for ${name}`, () => receiver.requests.find((request) => request.path === `/${name}`));
  }

  it('owners and admins rotate the secret and get the new one; members and viewers are refused, outsiders see no team', async () => {
    const owner = await signUpWithTeam(app.http, 'Rotating');
    const admin = await addMember(app.http, owner, 'admin');
    const member = await addMember(app.http, owner, 'member');
    const viewer = await addMember(app.http, owner, 'viewer');
    const outsider = await signUp(app.http);
    const rotate = (token: string) => app.http.post(`/teams/${owner.teamId}/webhook-secret/rotate`, undefined, { token });
    const initial = await secretOf(owner);

    const byOwner = await rotate(owner.token);
    expect(byOwner.status).toBe(200);
    expect(byOwner.body).toEqual({ secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/) });
    expect(byOwner.headers.get('cache-control')).toBe('no-store');
    expect(byOwner.body.secret).not.toBe(initial);
    expect(await secretOf(owner)).toBe(byOwner.body.secret);

    const byAdmin = await rotate(admin.token);
    expect(byAdmin.status).toBe(200);
    expect(new Set([initial, byOwner.body.secret, byAdmin.body.secret]).size).toBe(3);

    expect((await rotate(member.token)).status).toBe(403);
    expect((await rotate(viewer.token)).status).toBe(403);
    expect((await rotate(outsider.token)).status).toBe(404);
    expect((await app.http.post(`/teams/${randomUUID()}/webhook-secret/rotate`, undefined, { token: owner.token })).status).toBe(404);
    expect((await app.http.post(`/teams/not-a-team/webhook-secret/rotate`, undefined, { token: owner.token })).status).toBe(400);
    expect((await app.http.post(`/teams/${owner.teamId}/webhook-secret/rotate`)).status).toBe(401);
    expect(await secretOf(owner)).toBe(byAdmin.body.secret);

    const audit = await app.http.get(`/teams/${owner.teamId}/audit`, { token: owner.token });
    const rotations = (audit.body as { type: string; data: Record<string, unknown> }[]).filter((entry) => entry.type === 'WebhookSecretRotated');
    expect(rotations.map((entry) => entry.data)).toEqual([
      { teamId: owner.teamId, generation: 2, rotatedBy: admin.userId, rotatedAt: expect.any(String) },
      { teamId: owner.teamId, generation: 1, rotatedBy: owner.userId, rotatedAt: expect.any(String) },
    ]);
  });

  it('after a rotation deliveries verify with the new secret and, for the day after, with the one it replaced', async () => {
    const owner = await signUpWithTeam(app.http, 'Switching');
    const before = await secretOf(owner);
    const signedBefore = await page(owner, 'before-rotation');
    expect(verifiedWith(before, signedBefore)).toMatchObject({
      teamId: owner.teamId,
      actions: { acknowledge: expect.stringMatching(/\/a\/[^/]+#acknowledge$/), resolve: expect.stringMatching(/\/a\/[^/]+#resolve$/) },
    });
    expect(String(signedBefore.headers['webhook-signature']).split(' ')).toHaveLength(1);

    const rotated = await app.http.post(`/teams/${owner.teamId}/webhook-secret/rotate`, undefined, { token: owner.token });
    const after = rotated.body.secret as string;
    const signedAfter = await page(owner, 'after-rotation');

    expect(String(signedAfter.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifiedWith(after, signedAfter)).toMatchObject({ teamId: owner.teamId });
    expect(verifiedWith(before, signedAfter)).toMatchObject({ teamId: owner.teamId });
    expect(verifiedWith(after, signedBefore)).toBe('No matching signature found');
    const other = await signUpWithTeam(app.http, 'Other');
    expect(verifiedWith(await secretOf(other), signedAfter)).toBe('No matching signature found');
  });

  it('a team whose TeamCreated still carries a plaintext secret signs with a derived one; the plaintext is never used or shown again', async () => {
    const founder = await signUp(app.http);
    const teamId = randomUUID();
    const plaintext = randomBytes(32).toString('base64url');
    const metadata = { actor: `user:${founder.userId}` as const, correlationId: randomUUID(), causationId: null, teamId };
    // As the previous version of AlertOps wrote it: schema version 1, the secret in the event.
    const appended = await app.runtime.services.eventStore.append(
      `team-${teamId}`,
      [
        {
          type: 'TeamCreated',
          schemaVersion: 1,
          data: { teamId, name: 'Legacy', webhookSecret: plaintext, createdBy: founder.userId, createdAt: new Date().toISOString() },
        },
        {
          type: 'MemberAdded',
          schemaVersion: 1,
          data: { teamId, userId: founder.userId, role: 'owner', inviteId: null, addedAt: new Date().toISOString() },
        },
      ],
      { expectedVersion: 'no_stream', metadata },
    );
    const owner: TeamOwner = { ...founder, teamId };
    const seen: string[] = [];
    const read = async (path: string) => {
      const response = await app.http.get(path, { token: owner.token, headers: { 'x-alertops-position': formatPosition(appended.position) } });
      expect(response.status, path).toBe(200);
      seen.push(JSON.stringify(response.body));
      return response.body;
    };

    const team = await read(`/teams/${teamId}`);
    expect(team.webhookSecret).toMatch(/^whsec_/);
    const audit = await read(`/teams/${teamId}/audit`);
    expect(audit.find((entry: { type: string }) => entry.type === 'TeamCreated').data).toEqual({
      teamId,
      name: 'Legacy',
      createdBy: founder.userId,
      createdAt: expect.any(String),
    });

    const signed = await page(owner, 'legacy-team');
    expect(verifiedWith(team.webhookSecret, signed)).toMatchObject({ teamId });
    seen.push(signed.rawBody.toString('utf8'), JSON.stringify(signed.headers));
    const rotated = await app.http.post(`/teams/${teamId}/webhook-secret/rotate`, undefined, { token: owner.token });
    expect(rotated.status).toBe(200);
    seen.push(JSON.stringify(rotated.body));

    expect(seen.filter((text) => text.includes(plaintext))).toEqual([]);
    const { rows } = await app.database.pool.query(`select t::text as row from teams t where id = $1`, [teamId]);
    expect(rows[0].row).not.toContain(plaintext);
    // Stored events are never rewritten: the old event keeps its bytes (and its hash chain), unused.
    const stored = await app.database.pool.query(`select data->>'webhookSecret' as secret from events where stream_id = $1 and stream_version = 0`, [
      `team-${teamId}`,
    ]);
    expect(stored.rows[0].secret).toBe(plaintext);
  });
});
