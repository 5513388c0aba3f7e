import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SignedUpUser, signUp, signUpWithTeam, type TeamOwner } from './support/accounts.js';
import { startTestApp, type TestApp } from './support/app.js';

const webhookNode = (name: string, delaySeconds = 0) => ({ name, delaySeconds, target: { type: 'webhook', url: `https://hooks.example.com/${name}` } });
const emailNode = (name: string, delaySeconds = 60) => ({
  name,
  delaySeconds,
  target: { type: 'email', email: `${name}@example.com` },
  retry: { maxAttempts: 5, backoffSeconds: 10 },
});

describe('flows over HTTP', () => {
  let app: TestApp;
  let owner: TeamOwner;
  let outsider: TeamOwner;
  let viewer: SignedUpUser;
  let member: SignedUpUser;

  const flowsPath = (teamId = owner.teamId) => `/teams/${teamId}/flows`;
  const flowPath = (flowId: string, teamId = owner.teamId) => `/teams/${teamId}/flows/${flowId}`;
  const nodePath = (flowId: string, nodeId: string, teamId = owner.teamId) => `${flowPath(flowId, teamId)}/nodes/${nodeId}`;

  async function joinTeam(role: 'viewer' | 'member'): Promise<SignedUpUser> {
    const email = `${role}-${randomUUID()}@example.com`;
    const invite = await app.http.post(`/teams/${owner.teamId}/invites`, { email, role }, { token: owner.token });
    expect(invite.status, JSON.stringify(invite.body)).toBe(201);
    return signUp(app.http, { email, inviteToken: invite.body.token });
  }

  async function createFlow(body: Record<string, unknown> = { name: 'primary', nodes: [webhookNode('first'), emailNode('second')] }) {
    const response = await app.http.post(flowsPath(), body, { token: owner.token });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body as { id: string; version: number };
  }

  async function readFlow(flowId: string) {
    const response = await app.http.get(flowPath(flowId), { token: owner.token });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response;
  }

  const nodeNames = async (flowId: string) => (await readFlow(flowId)).body.nodes.map((node: { name: string }) => node.name);

  beforeAll(async () => {
    app = await startTestApp();
    owner = await signUpWithTeam(app.http, 'Operations');
    outsider = await signUpWithTeam(app.http, 'Elsewhere');
    viewer = await joinTeam('viewer');
    member = await joinTeam('member');
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('creates a flow whose nodes get stable ids and the default retry policy, readable at once with its version as ETag', async () => {
    const created = await app.http.post(flowsPath(), { name: 'primary', repeat: 2, nodes: [webhookNode('first'), emailNode('second')] }, { token: owner.token });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.any(String), version: 1 });
    expect(created.headers.get('etag')).toBe('"1"');

    const flow = await readFlow(created.body.id);
    expect(flow.headers.get('etag')).toBe('"1"');
    expect(flow.body).toEqual({
      id: created.body.id,
      name: 'primary',
      version: 1,
      repeat: 2,
      ackTimeoutMinutes: null,
      nodes: [
        { id: expect.any(String), ...webhookNode('first'), retry: { maxAttempts: 3, backoffSeconds: 30 } },
        { id: expect.any(String), ...emailNode('second') },
      ],
    });
    expect(new Set(flow.body.nodes.map((node: { id: string }) => node.id)).size).toBe(2);

    const list = await app.http.get(flowsPath(), { token: owner.token });
    expect(list.status).toBe(200);
    expect(list.body).toContainEqual({ id: created.body.id, name: 'primary', version: 1, nodeCount: 2 });
  });

  it('a flow may start without nodes and with repeat 0', async () => {
    const { id } = await createFlow({ name: 'empty' });
    expect((await readFlow(id)).body).toEqual({ id, name: 'empty', version: 1, repeat: 0, ackTimeoutMinutes: null, nodes: [] });
  });

  it('every edit bumps the version and answers with the new ETag', async () => {
    const { id } = await createFlow();
    const [first, second] = (await readFlow(id)).body.nodes as { id: string }[];

    const renamed = await app.http.patch(flowPath(id), { name: 'renamed', repeat: 3 }, { token: owner.token });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toEqual({ id, version: 3 }); // two facts: renamed, repeat changed
    expect(renamed.headers.get('etag')).toBe('"3"');

    const appended = await app.http.post(`${flowPath(id)}/nodes`, webhookNode('third', 30), { token: owner.token });
    expect(appended.status).toBe(201);
    expect(appended.body).toEqual({ id: expect.any(String), version: 4 });
    expect(appended.headers.get('etag')).toBe('"4"');

    const updated = await app.http.patch(nodePath(id, first!.id), { delaySeconds: 0.25, name: 'first, sooner' }, { token: owner.token });
    expect(updated.status).toBe(200);
    expect(updated.body).toEqual({ id: first!.id, version: 5 });

    const movedNode = await app.http.post(`${nodePath(id, first!.id)}/move`, { after: appended.body.id }, { token: owner.token });
    expect(movedNode.status).toBe(200);
    expect(movedNode.body).toEqual({ version: 6 });
    expect(movedNode.headers.get('etag')).toBe('"6"');

    const removed = await app.http.delete(nodePath(id, second!.id), { token: owner.token });
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ version: 7 });

    const flow = await readFlow(id);
    expect(flow.headers.get('etag')).toBe('"7"');
    expect(flow.body).toMatchObject({ name: 'renamed', repeat: 3, version: 7 });
    expect(flow.body.nodes).toEqual([
      { id: appended.body.id, ...webhookNode('third', 30), retry: { maxAttempts: 3, backoffSeconds: 30 } },
      { id: first!.id, ...webhookNode('first', 0.25), name: 'first, sooner', retry: { maxAttempts: 3, backoffSeconds: 30 } },
    ]);
    const list = await app.http.get(flowsPath(), { token: owner.token });
    expect(list.body).toContainEqual({ id, name: 'renamed', version: 7, nodeCount: 2 });
  });

  it('places added nodes at the end, first (after: null) or after the node named', async () => {
    const { id } = await createFlow({ name: 'ordering', nodes: [webhookNode('a'), webhookNode('b')] });
    const [a] = (await readFlow(id)).body.nodes as { id: string }[];
    expect((await app.http.post(`${flowPath(id)}/nodes`, webhookNode('end'), { token: owner.token })).status).toBe(201);
    expect((await app.http.post(`${flowPath(id)}/nodes`, { ...webhookNode('front'), after: null }, { token: owner.token })).status).toBe(201);
    expect((await app.http.post(`${flowPath(id)}/nodes`, { ...webhookNode('after-a'), after: a!.id }, { token: owner.token })).status).toBe(201);
    expect(await nodeNames(id)).toEqual(['front', 'a', 'after-a', 'b', 'end']);

    const front = (await readFlow(id)).body.nodes[0].id;
    expect((await app.http.post(`${nodePath(id, front)}/move`, { after: a!.id }, { token: owner.token })).status).toBe(200);
    expect((await app.http.post(`${nodePath(id, a!.id)}/move`, { after: null }, { token: owner.token })).status).toBe(200);
    expect(await nodeNames(id)).toEqual(['a', 'front', 'after-a', 'b', 'end']);
  });

  it('an edit that changes nothing keeps the version', async () => {
    const { id } = await createFlow();
    const [first] = (await readFlow(id)).body.nodes as { id: string }[];
    const sameName = await app.http.patch(flowPath(id), { name: 'primary' }, { token: owner.token });
    expect(sameName.status).toBe(200);
    expect(sameName.body).toEqual({ id, version: 1 });
    const sameNode = await app.http.patch(nodePath(id, first!.id), { name: 'first' }, { token: owner.token });
    expect(sameNode.body).toEqual({ id: first!.id, version: 1 });
    const samePlace = await app.http.post(`${nodePath(id, first!.id)}/move`, { after: null }, { token: owner.token });
    expect(samePlace.body).toEqual({ version: 1 });
    expect((await readFlow(id)).headers.get('etag')).toBe('"1"');
  });

  it('honours If-Match: a stale version is 412 with the current version, the current one applies', async () => {
    const { id } = await createFlow();
    const [first] = (await readFlow(id)).body.nodes as { id: string }[];
    const edited = await app.http.patch(flowPath(id), { name: 'v2' }, { token: owner.token, headers: { 'If-Match': '"1"' } });
    expect(edited.status).toBe(200);
    expect(edited.body.version).toBe(2);

    const stale = [
      app.http.patch(flowPath(id), { name: 'lost update' }, { token: owner.token, headers: { 'If-Match': '"1"' } }),
      app.http.post(`${flowPath(id)}/nodes`, webhookNode('late'), { token: owner.token, headers: { 'If-Match': '1' } }),
      app.http.patch(nodePath(id, first!.id), { name: 'late' }, { token: owner.token, headers: { 'If-Match': '"1"' } }),
      app.http.post(`${nodePath(id, first!.id)}/move`, { after: null }, { token: owner.token, headers: { 'If-Match': '"3"' } }),
      app.http.delete(nodePath(id, first!.id), { token: owner.token, headers: { 'If-Match': '"1"' } }),
    ];
    for (const response of await Promise.all(stale)) {
      expect(response.status, JSON.stringify(response.body)).toBe(412);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.body).toMatchObject({ code: 'stale_version', currentVersion: 2 });
    }
    expect((await readFlow(id)).body).toMatchObject({ name: 'v2', version: 2, nodes: [{ name: 'first' }, { name: 'second' }] });

    const current = await app.http.post(`${flowPath(id)}/nodes`, webhookNode('third'), { token: owner.token, headers: { 'If-Match': '2' } });
    expect(current.status).toBe(201);
    expect(current.headers.get('etag')).toBe('"3"');
    const anyVersion = await app.http.delete(nodePath(id, current.body.id), { token: owner.token, headers: { 'If-Match': '*' } });
    expect(anyVersion.status).toBe(200);

    const malformed = await app.http.patch(flowPath(id), { name: 'x' }, { token: owner.token, headers: { 'If-Match': 'W/"4"' } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('invalid_if_match');
  });

  it('two clients editing from the same version: exactly one wins, the other gets 412', async () => {
    const { id } = await createFlow();
    const attempts = await Promise.all(
      ['x', 'y', 'z'].map((name) => app.http.post(`${flowPath(id)}/nodes`, webhookNode(name), { token: owner.token, headers: { 'If-Match': '"1"' } })),
    );
    expect(attempts.map((response) => response.status).sort()).toEqual([201, 412, 412]);
    expect((await readFlow(id)).body.version).toBe(2);
  });

  it('refuses negative delays and other malformed nodes with 400 and field errors', async () => {
    const { id } = await createFlow();
    const [first] = (await readFlow(id)).body.nodes as { id: string }[];
    const cases = [
      app.http.post(flowsPath(), { name: 'bad', nodes: [webhookNode('neg', -1)] }, { token: owner.token }),
      app.http.post(`${flowPath(id)}/nodes`, webhookNode('neg', -5), { token: owner.token }),
      app.http.patch(nodePath(id, first!.id), { delaySeconds: -0.5 }, { token: owner.token }),
      app.http.post(`${flowPath(id)}/nodes`, { ...webhookNode('ftp'), target: { type: 'webhook', url: 'ftp://example.com/x' } }, { token: owner.token }),
      app.http.post(`${flowPath(id)}/nodes`, { ...webhookNode('js'), target: { type: 'webhook', url: 'javascript:alert(1)' } }, { token: owner.token }),
      app.http.post(`${flowPath(id)}/nodes`, { ...webhookNode('mail'), target: { type: 'email', email: 'not-an-address' } }, { token: owner.token }),
      app.http.post(`${flowPath(id)}/nodes`, { ...webhookNode('who'), target: { type: 'pager', number: '1' } }, { token: owner.token }),
      app.http.post(`${flowPath(id)}/nodes`, { ...webhookNode('extra'), colour: 'red' }, { token: owner.token }),
      app.http.post(`${flowPath(id)}/nodes`, { ...webhookNode('retry'), retry: { maxAttempts: 0, backoffSeconds: 1 } }, { token: owner.token }),
      app.http.post(`${flowPath(id)}/nodes`, { ...webhookNode('after'), after: 'not-a-uuid' }, { token: owner.token }),
      app.http.post(`${flowPath(id)}/nodes`, { name: '', delaySeconds: 0, target: { type: 'webhook', url: 'https://example.com' } }, { token: owner.token }),
      app.http.post(`${flowPath(id)}/nodes`, { ...webhookNode('str'), delaySeconds: '10' }, { token: owner.token }),
      app.http.post(flowsPath(), { name: 'too many loops', repeat: 11 }, { token: owner.token }),
      app.http.post(flowsPath(), { name: 'negative loops', repeat: -1 }, { token: owner.token }),
      app.http.post(flowsPath(), { name: '   ' }, { token: owner.token }),
      app.http.patch(flowPath(id), { repeat: 1.5 }, { token: owner.token }),
      app.http.post(`${nodePath(id, first!.id)}/move`, {}, { token: owner.token }),
      app.http.post(`${flowPath(id)}/nodes`, undefined, { token: owner.token, raw: '{"name": "half' }),
    ];
    for (const response of await Promise.all(cases)) {
      expect(response.status, JSON.stringify(response.body)).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    }
    const negative = await cases[1]!;
    expect(negative.body.errors).toContainEqual({ path: 'body.delaySeconds', message: expect.any(String) });
    expect((await readFlow(id)).body.version).toBe(1);
  });

  it('a user target must be a current member of the team (422 otherwise)', async () => {
    const { id } = await createFlow();
    const teammate = await app.http.post(
      `${flowPath(id)}/nodes`,
      { name: 'page the member', delaySeconds: 0, target: { type: 'user', userId: member.userId } },
      { token: owner.token },
    );
    expect(teammate.status, JSON.stringify(teammate.body)).toBe(201);

    const stranger = await app.http.post(
      `${flowPath(id)}/nodes`,
      { name: 'page a stranger', delaySeconds: 0, target: { type: 'user', userId: outsider.userId } },
      { token: owner.token },
    );
    expect(stranger.status).toBe(422);
    expect(stranger.body.code).toBe('target_not_member');
    const atCreation = await app.http.post(
      flowsPath(),
      { name: 'stranger', nodes: [{ name: 'x', delaySeconds: 0, target: { type: 'user', userId: outsider.userId } }] },
      { token: owner.token },
    );
    expect(atCreation.status).toBe(422);
    const onUpdate = await app.http.patch(nodePath(id, teammate.body.id), { target: { type: 'user', userId: randomUUID() } }, { token: owner.token });
    expect(onUpdate.status).toBe(422);
  });

  it('an unknown flow is 404 on every flow route, and a malformed id is 400', async () => {
    const unknown = randomUUID();
    const nodeId = randomUUID();
    const responses = await Promise.all([
      app.http.get(flowPath(unknown), { token: owner.token }),
      app.http.patch(flowPath(unknown), { name: 'x' }, { token: owner.token }),
      app.http.post(`${flowPath(unknown)}/nodes`, webhookNode('x'), { token: owner.token }),
      app.http.patch(nodePath(unknown, nodeId), { name: 'x' }, { token: owner.token }),
      app.http.post(`${nodePath(unknown, nodeId)}/move`, { after: null }, { token: owner.token }),
      app.http.delete(nodePath(unknown, nodeId), { token: owner.token }),
      app.http.post(`${flowPath(unknown)}/integration-keys`, undefined, { token: owner.token }),
      app.http.get(`${flowPath(unknown)}/integration-keys`, { token: owner.token }),
      app.http.patch(flowPath(unknown), { name: 'x' }, { token: owner.token, headers: { 'If-Match': '"7"' } }),
    ]);
    for (const response of responses) {
      expect(response.status, JSON.stringify(response.body)).toBe(404);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    }
    expect((await app.http.get(flowPath('not-a-uuid'), { token: owner.token })).status).toBe(400);
    expect((await app.http.delete(nodePath(randomUUID(), '123'), { token: owner.token })).status).toBe(400);
  });

  it("node ids of another flow are 404 (node_not_found) and change neither flow", async () => {
    const one = await createFlow({ name: 'one', nodes: [webhookNode('one-a'), webhookNode('one-b')] });
    const two = await createFlow({ name: 'two', nodes: [webhookNode('two-a')] });
    const [oneA] = (await readFlow(one.id)).body.nodes as { id: string }[];
    const [twoA] = (await readFlow(two.id)).body.nodes as { id: string }[];
    const responses = await Promise.all([
      app.http.patch(nodePath(one.id, twoA!.id), { name: 'x' }, { token: owner.token }),
      app.http.post(`${nodePath(one.id, twoA!.id)}/move`, { after: null }, { token: owner.token }),
      app.http.post(`${nodePath(one.id, oneA!.id)}/move`, { after: twoA!.id }, { token: owner.token }),
      app.http.delete(nodePath(one.id, twoA!.id), { token: owner.token }),
      app.http.post(`${flowPath(one.id)}/nodes`, { ...webhookNode('x'), after: twoA!.id }, { token: owner.token }),
    ]);
    for (const response of responses) {
      expect(response.status, JSON.stringify(response.body)).toBe(404);
      expect(response.body.code).toBe('node_not_found');
    }
    expect((await readFlow(one.id)).body.version).toBe(1);
    expect((await readFlow(two.id)).body.version).toBe(1);
  });

  it('moving a node after itself is 422', async () => {
    const { id } = await createFlow();
    const [first] = (await readFlow(id)).body.nodes as { id: string }[];
    const response = await app.http.post(`${nodePath(id, first!.id)}/move`, { after: first!.id }, { token: owner.token });
    expect(response.status).toBe(422);
    expect(response.body.code).toBe('move_after_itself');
  });

  it('a flow holds at most 50 nodes', async () => {
    const nodes = Array.from({ length: 50 }, (_, n) => webhookNode(`n${n}`));
    const { id } = await createFlow({ name: 'long', nodes });
    const tooMany = await app.http.post(`${flowPath(id)}/nodes`, webhookNode('n50'), { token: owner.token });
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.code).toBe('too_many_nodes');
    const atCreation = await app.http.post(flowsPath(), { name: 'longer', nodes: [...nodes, webhookNode('n50')] }, { token: owner.token });
    expect(atCreation.status).toBe(422);
  });

  it("another team's flow is 404 on every flow route, even with a stale If-Match", async () => {
    const { id } = await createFlow();
    const [first] = (await readFlow(id)).body.nodes as { id: string }[];
    const token = outsider.token;
    const staleIfMatch = { 'If-Match': '"99"' };
    for (const teamId of [outsider.teamId, owner.teamId]) {
      const responses = await Promise.all([
        app.http.get(flowPath(id, teamId), { token }),
        app.http.patch(flowPath(id, teamId), { name: 'mine now' }, { token }),
        app.http.patch(flowPath(id, teamId), { name: 'mine now' }, { token, headers: staleIfMatch }),
        app.http.post(`${flowPath(id, teamId)}/nodes`, webhookNode('x'), { token }),
        app.http.post(`${flowPath(id, teamId)}/nodes`, webhookNode('x'), { token, headers: staleIfMatch }),
        app.http.patch(nodePath(id, first!.id, teamId), { name: 'x' }, { token }),
        app.http.post(`${nodePath(id, first!.id, teamId)}/move`, { after: null }, { token, headers: staleIfMatch }),
        app.http.delete(nodePath(id, first!.id, teamId), { token }),
        app.http.post(`${flowPath(id, teamId)}/integration-keys`, undefined, { token }),
        app.http.get(`${flowPath(id, teamId)}/integration-keys`, { token }),
        app.http.delete(`${flowPath(id, teamId)}/integration-keys/${randomUUID()}`, { token }),
      ]);
      for (const response of responses) expect(response.status, `${teamId === owner.teamId ? 'their' : 'own'} team path: ${JSON.stringify(response.body)}`).toBe(404);
    }
    expect((await app.http.get(flowsPath(owner.teamId), { token })).status).toBe(404);
    const ownList = await app.http.get(flowsPath(outsider.teamId), { token });
    expect(ownList.status).toBe(200);
    expect(ownList.body.map((flow: { id: string }) => flow.id)).not.toContain(id);
    expect((await readFlow(id)).body).toMatchObject({ name: 'primary', version: 1 });
  });

  it('a viewer reads flows but may not edit them or manage keys (403)', async () => {
    const { id } = await createFlow();
    const [first] = (await readFlow(id)).body.nodes as { id: string }[];
    const token = viewer.token;
    expect((await app.http.get(flowPath(id), { token })).status).toBe(200);
    expect((await app.http.get(flowsPath(), { token })).status).toBe(200);
    const responses = await Promise.all([
      app.http.post(flowsPath(), { name: 'viewer flow' }, { token }),
      app.http.patch(flowPath(id), { name: 'viewer' }, { token }),
      app.http.post(`${flowPath(id)}/nodes`, webhookNode('x'), { token }),
      app.http.patch(nodePath(id, first!.id), { name: 'x' }, { token }),
      app.http.post(`${nodePath(id, first!.id)}/move`, { after: null }, { token }),
      app.http.delete(nodePath(id, first!.id), { token }),
      app.http.post(`${flowPath(id)}/integration-keys`, undefined, { token }),
    ]);
    for (const response of responses) expect(response.status, JSON.stringify(response.body)).toBe(403);
    expect((await readFlow(id)).body.version).toBe(1);
  });

  it('a member edits flows but may not manage integration keys (403)', async () => {
    const { id } = await createFlow();
    expect((await app.http.patch(flowPath(id), { name: 'by a member' }, { token: member.token })).status).toBe(200);
    expect((await app.http.post(`${flowPath(id)}/integration-keys`, undefined, { token: member.token })).status).toBe(403);
  });

  it('requires a signed-in user', async () => {
    expect((await app.http.get(flowsPath())).status).toBe(401);
    expect((await app.http.post(flowsPath(), { name: 'anon' })).status).toBe(401);
  });

  it('an integration key is shown once, stored only as its sha256, listed without the key, and revocable', async () => {
    const { id } = await createFlow();
    const created = await app.http.post(`${flowPath(id)}/integration-keys`, undefined, { token: owner.token });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.any(String), key: expect.any(String) });
    const { key, id: keyId } = created.body as { id: string; key: string };
    expect(key.length).toBeGreaterThanOrEqual(40);
    expect(created.headers.get('etag')).toBe('"2"');

    const second = await app.http.post(`${flowPath(id)}/integration-keys`, undefined, { token: owner.token });
    expect(second.body.key).not.toBe(key);

    const listed = await app.http.get(`${flowPath(id)}/integration-keys`, { token: owner.token });
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([
      { id: keyId, flowId: id, createdAt: expect.any(String), revokedAt: null },
      { id: second.body.id, flowId: id, createdAt: expect.any(String), revokedAt: null },
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(key);
    expect(JSON.stringify((await readFlow(id)).body)).not.toContain(key);

    const pool = app.runtime.services.pool;
    const stored = await pool.query('select key_hash, team_id, flow_id from integration_keys where id = $1', [keyId]);
    expect(stored.rows).toEqual([{ key_hash: createHash('sha256').update(key).digest('hex'), team_id: owner.teamId, flow_id: id }]);
    const leaked = await pool.query(`select count(*)::int as count from events where data::text like '%' || $1 || '%'`, [key]);
    expect(leaked.rows[0].count).toBe(0);
    const audit = await app.http.get(`/teams/${owner.teamId}/audit`, { token: owner.token });
    expect(JSON.stringify(audit.body)).not.toContain(key);

    const revoked = await app.http.delete(`${flowPath(id)}/integration-keys/${keyId}`, { token: owner.token });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toEqual({ version: 4 });
    const again = await app.http.delete(`${flowPath(id)}/integration-keys/${keyId}`, { token: owner.token });
    expect(again.body).toEqual({ version: 4 });
    const afterRevoke = await app.http.get(`${flowPath(id)}/integration-keys`, { token: owner.token });
    expect(afterRevoke.body[0]).toMatchObject({ id: keyId, revokedAt: expect.any(String) });
    expect((await app.http.delete(`${flowPath(id)}/integration-keys/${randomUUID()}`, { token: owner.token })).status).toBe(404);
  });

  it('describes every flow route in the OpenAPI document', async () => {
    const openapi = await app.http.get('/openapi.json');
    const paths = openapi.body.paths as Record<string, Record<string, unknown>>;
    expect(Object.keys(paths['/teams/{teamId}/flows']!).sort()).toEqual(['get', 'post']);
    expect(Object.keys(paths['/teams/{teamId}/flows/{flowId}']!).sort()).toEqual(['get', 'patch']);
    expect(Object.keys(paths['/teams/{teamId}/flows/{flowId}/nodes']!)).toEqual(['post']);
    expect(Object.keys(paths['/teams/{teamId}/flows/{flowId}/nodes/{nodeId}']!).sort()).toEqual(['delete', 'patch']);
    expect(Object.keys(paths['/teams/{teamId}/flows/{flowId}/nodes/{nodeId}/move']!)).toEqual(['post']);
    expect(Object.keys(paths['/teams/{teamId}/flows/{flowId}/integration-keys']!).sort()).toEqual(['get', 'post']);
  });
});
