import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READ_MODELS } from '../../src/projections/read-model-subscription.js';
import type { SubscriptionRunner } from '../../src/projections/runner.js';
import { addMember, type SignedUpUser, signUpWithTeam, type TeamOwner } from '../support/accounts.js';
import { type HttpResponse, startTestApp, type TestApp } from '../support/app.js';
import { waitFor } from '../support/wait.js';

/**
 * Roles change on the team's stream; `team_members` follows once the read-model subscription has applied the change.
 * Here that subscription is stopped while roles change, so the read model keeps the old roles for as long as the test
 * needs: what a projection lagging behind a busy log looks like to the API.
 */
describe('privileged commands are authorized from the team stream, however far the read models lag', () => {
  let app: TestApp;
  let owner: TeamOwner;
  let flowId: string;
  let nodeId: string;
  let keyId: string;
  let inviteId: string;

  beforeAll(async () => {
    app = await startTestApp({ READ_YOUR_WRITES_TIMEOUT_MS: '300' });
    owner = await signUpWithTeam(app.http, 'Lagging');
    const auth = { token: owner.token };
    const flow = await app.http.post(
      `/teams/${owner.teamId}/flows`,
      { name: 'on-call', nodes: [{ name: 'lead', delaySeconds: 3600, target: { type: 'email', email: 'lead@example.com' } }] },
      auth,
    );
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    flowId = flow.body.id;
    nodeId = (await app.http.get(`/teams/${owner.teamId}/flows/${flowId}`, auth)).body.nodes[0].id;
    const key = await app.http.post(`/teams/${owner.teamId}/flows/${flowId}/integration-keys`, undefined, auth);
    expect(key.status, JSON.stringify(key.body)).toBe(201);
    keyId = key.body.id;
    const invite = await app.http.post(`/teams/${owner.teamId}/invites`, { email: 'later@example.com', role: 'member' }, auth);
    expect(invite.status, JSON.stringify(invite.body)).toBe(201);
    inviteId = invite.body.id;
  });
  afterAll(async () => {
    await app?.stop();
  });

  const readModels = (): SubscriptionRunner => app.runtime.runners.find((runner) => runner.subscription.name === READ_MODELS)!;
  const readModelRole = async (userId: string) => {
    const { rows } = await app.database.pool.query<{ role: string }>('select role from team_members where team_id = $1 and user_id = $2', [
      owner.teamId,
      userId,
    ]);
    return rows[0]?.role ?? null;
  };
  const eventsBy = async (user: SignedUpUser) => {
    const { rows } = await app.database.pool.query<{ count: string }>(`select count(*) from events where metadata->>'actor' = $1`, [
      `user:${user.userId}`,
    ]);
    return Number(rows[0]!.count);
  };

  /** A role change by the owner, appended to the team's stream without waiting for the (stopped) read models. */
  async function changeRole(user: SignedUpUser, role: string): Promise<void> {
    const response = await app.http.patch(`/teams/${owner.teamId}/members/${user.userId}`, { role }, {
      token: owner.token,
      headers: { prefer: 'respond-async' },
    });
    expect(response.status, JSON.stringify(response.body)).toBe(202);
  }

  /** Every privileged route of the team, as `user`: roles, members, invites, flows, integration keys, the webhook secret. */
  function privilegedRequests(user: SignedUpUser, other: SignedUpUser): [string, () => Promise<HttpResponse>][] {
    const auth = { token: user.token };
    const team = `/teams/${owner.teamId}`;
    const flow = `${team}/flows/${flowId}`;
    const emailNode = { name: 'intruder', delaySeconds: 0, target: { type: 'email', email: 'intruder@example.com' } };
    return [
      ['create a flow', () => app.http.post(`${team}/flows`, { name: 'by a former admin' }, auth)],
      ['rename a flow', () => app.http.patch(flow, { name: 'renamed by a former admin' }, auth)],
      ['add a node', () => app.http.post(`${flow}/nodes`, emailNode, auth)],
      ['change a node', () => app.http.patch(`${flow}/nodes/${nodeId}`, { target: emailNode.target }, auth)],
      ['move a node', () => app.http.post(`${flow}/nodes/${nodeId}/move`, { after: null }, auth)],
      ['remove a node', () => app.http.delete(`${flow}/nodes/${nodeId}`, auth)],
      ['create an integration key', () => app.http.post(`${flow}/integration-keys`, undefined, auth)],
      ['revoke an integration key', () => app.http.delete(`${flow}/integration-keys/${keyId}`, auth)],
      ['rotate the webhook secret', () => app.http.post(`${team}/webhook-secret/rotate`, undefined, auth)],
      ["change a member's role", () => app.http.patch(`${team}/members/${other.userId}`, { role: 'viewer' }, auth)],
      ['remove a member', () => app.http.delete(`${team}/members/${other.userId}`, auth)],
      ['invite someone', () => app.http.post(`${team}/invites`, { email: 'friend@example.com', role: 'admin' }, auth)],
      ['list invites', () => app.http.get(`${team}/invites`, auth)],
      ['revoke an invite', () => app.http.delete(`${team}/invites/${inviteId}`, auth)],
    ];
  }

  async function answers(requests: [string, () => Promise<HttpResponse>][]): Promise<Record<string, number>> {
    const statuses: Record<string, number> = {};
    for (const [label, request] of requests) statuses[label] = (await request()).status;
    return statuses;
  }

  it('a demoted admin is refused every privileged command at once, while the read model still says admin', async () => {
    const admin = await addMember(app.http, owner, 'admin');
    const member = await addMember(app.http, owner, 'member');
    const before = await eventsBy(admin);
    await readModels().stop();
    try {
      await changeRole(admin, 'viewer');
      expect(await readModelRole(admin.userId), 'the read model has not seen the demotion').toBe('admin');

      const statuses = await answers(privilegedRequests(admin, member));
      expect(statuses).toEqual(Object.fromEntries(Object.keys(statuses).map((label) => [label, 403])));
      const team = await app.http.get(`/teams/${owner.teamId}`, { token: admin.token });
      expect(team.status).toBe(200);
      expect(team.body.webhookSecret, 'the webhook secret, shown to admins only').toBeUndefined();
      // Viewer-level reads may come from the read model.
      expect((await app.http.get(`/teams/${owner.teamId}/flows`, { token: admin.token })).status).toBe(200);
      expect(await readModelRole(admin.userId)).toBe('admin');
    } finally {
      readModels().start();
    }
    await waitFor('the read model to apply the demotion', async () => (await readModelRole(admin.userId)) === 'viewer');
    expect(await eventsBy(admin), 'events appended by the demoted admin').toBe(before);
  });

  it('a removed member is refused at once, and a promoted member may use the new role at once', async () => {
    const removed = await addMember(app.http, owner, 'member');
    const promoted = await addMember(app.http, owner, 'member');
    await readModels().stop();
    try {
      const removal = await app.http.delete(`/teams/${owner.teamId}/members/${removed.userId}`, {
        token: owner.token,
        headers: { prefer: 'respond-async' },
      });
      expect(removal.status, JSON.stringify(removal.body)).toBe(202);
      await changeRole(promoted, 'admin');
      expect([await readModelRole(removed.userId), await readModelRole(promoted.userId)]).toEqual(['member', 'member']);

      const flow = await app.http.post(`/teams/${owner.teamId}/flows`, { name: 'by a removed member' }, { token: removed.token });
      expect(flow.status, 'a team the user is no longer in does not exist for them').toBe(404);

      const key = await app.http.post(`/teams/${owner.teamId}/flows/${flowId}/integration-keys`, undefined, { token: promoted.token });
      expect(key.status, JSON.stringify(key.body)).toBe(201);
      const team = await app.http.get(`/teams/${owner.teamId}`, { token: promoted.token });
      expect(team.body.webhookSecret).toMatch(/^whsec_/);
    } finally {
      readModels().start();
    }
    await waitFor('the read model to apply the removal and the promotion', async () =>
      (await readModelRole(removed.userId)) === null && (await readModelRole(promoted.userId)) === 'admin');
  });
});
