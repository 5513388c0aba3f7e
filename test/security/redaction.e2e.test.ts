import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPool } from '../../src/infra/postgres.js';
import { addMember, type SignedUpUser, signUpWithTeam, type TeamOwner } from '../support/accounts.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { waitFor } from '../support/wait.js';

/** Credentials as chat and incident tools put them into webhook URLs: userinfo, a path token, a query token. */
const USERINFO_PASSWORD = 'hunter2-userinfo';
const PATH_TOKEN = 'Zx81mQp4LwR7tY2vNc5bK9dF';
const QUERY_TOKEN = 'query-token-4711';
const credentialUrl = (name: string) => `https://ops:${USERINFO_PASSWORD}@hooks.example.invalid:8443/${name}/${PATH_TOKEN}?token=${QUERY_TOKEN}`;
const redactedUrl = (name: string) => `https://redacted@hooks.example.invalid:8443/${name}/redacted?redacted`;
const credentials = [USERINFO_PASSWORD, PATH_TOKEN, QUERY_TOKEN];

describe('what viewers see of webhook URLs', () => {
  let app: TestApp;
  let owner: TeamOwner;
  let member: SignedUpUser;
  let viewer: SignedUpUser;
  let flowId: string;
  let alertId: string;

  beforeAll(async () => {
    app = await startTestApp();
    owner = await signUpWithTeam(app.http, 'Redacted');
    member = await addMember(app.http, owner, 'member');
    viewer = await addMember(app.http, owner, 'viewer');
    const flow = await app.http.post(
      `/teams/${owner.teamId}/flows`,
      {
        name: 'chat',
        nodes: [
          { name: 'chat', delaySeconds: 0, target: { type: 'webhook', url: credentialUrl('first') }, retry: { maxAttempts: 1, backoffSeconds: 0 } },
          { name: 'mail', delaySeconds: 3600, target: { type: 'email', email: 'lead@example.com' } },
        ],
      },
      { token: owner.token },
    );
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    flowId = flow.body.id;
    const mailNode = (await app.http.get(`/teams/${owner.teamId}/flows/${flowId}`, { token: owner.token })).body.nodes[1].id;
    const updated = await app.http.patch(
      `/teams/${owner.teamId}/flows/${flowId}/nodes/${mailNode}`,
      { target: { type: 'webhook', url: credentialUrl('second') } },
      { token: owner.token },
    );
    expect(updated.status).toBe(200);
    const alert = await app.http.post(`/teams/${owner.teamId}/alerts`, { flowId, summary: 'chat is noisy' }, { token: owner.token });
    expect(alert.status).toBe(201);
    alertId = alert.body.id;
    await waitFor('the first notification to be requested', async () => {
      const detail = await app.http.get(`/teams/${owner.teamId}/alerts/${alertId}`, { token: owner.token });
      return detail.body.notifications.length > 0;
    });
  });
  afterAll(async () => {
    await app?.stop();
  });

  const readAll = async (token: string) => ({
    flow: (await app.http.get(`/teams/${owner.teamId}/flows/${flowId}`, { token })).body,
    alert: (await app.http.get(`/teams/${owner.teamId}/alerts/${alertId}`, { token })).body,
    timeline: (await app.http.get(`/teams/${owner.teamId}/alerts/${alertId}/timeline`, { token })).body,
    audit: (await app.http.get(`/teams/${owner.teamId}/audit`, { token })).body,
  });

  it('viewers see scheme, host and port, with userinfo, path tokens and the query redacted, in flows, alerts, timelines and the audit log', async () => {
    const seen = await readAll(viewer.token);
    const text = JSON.stringify(seen);

    expect(credentials.filter((credential) => text.includes(credential))).toEqual([]);
    expect(seen.flow.nodes.map((node: { target: unknown }) => node.target)).toEqual([
      { type: 'webhook', url: redactedUrl('first') },
      { type: 'webhook', url: redactedUrl('second') },
    ]);
    expect(seen.alert.notifications[0].target).toEqual({ type: 'webhook', url: redactedUrl('first') });
    const requested = seen.timeline.find((entry: { type: string }) => entry.type === 'NotificationRequested');
    expect(requested.data.target).toEqual({ type: 'webhook', url: redactedUrl('first') });
    const triggered = seen.timeline.find((entry: { type: string }) => entry.type === 'AlertTriggered');
    expect(triggered.data.steps[1].target).toEqual({ type: 'webhook', url: redactedUrl('second') });
    const nodeUpdated = seen.audit.find((entry: { type: string }) => entry.type === 'FlowNodeUpdated');
    expect(JSON.stringify(nodeUpdated.data)).toContain(redactedUrl('second'));
    expect(JSON.stringify(seen.audit)).toContain(redactedUrl('first'));
  });

  it('members and above see the URLs in full', async () => {
    for (const reader of [member, owner]) {
      const text = JSON.stringify(await readAll(reader.token));
      expect(text).toContain(JSON.stringify(credentialUrl('first')));
      expect(text).toContain(JSON.stringify(credentialUrl('second')));
    }
  });
});

describe('/readyz', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('names the dependency that is unavailable without passing on its error text, and recovers', async () => {
    expect((await app.http.get('/readyz')).body).toEqual({ status: 'ready', checks: { postgres: 'ok', rabbitmq: 'ok' } });
    const databaseName = new URL(app.database.url).pathname.slice(1);
    const adminUrl = new URL(inject('databaseUrl'));
    adminUrl.pathname = '/postgres';
    const admin = createPool(adminUrl.toString(), { max: 1, applicationName: 'alertops-test-admin' });
    try {
      await admin.query(`alter database "${databaseName}" with allow_connections false`);
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [databaseName]);

      const down = await waitFor('/readyz to answer 503', async () => {
        const response = await app.http.get('/readyz');
        return response.status === 503 && response;
      });
      expect(down.body).toEqual({ status: 'not ready', checks: { postgres: 'unavailable', rabbitmq: 'ok' } });
      expect(JSON.stringify(down.body)).not.toContain(databaseName);
    } finally {
      await admin.query(`alter database "${databaseName}" with allow_connections true`);
      await admin.end();
    }
    await waitFor('/readyz to answer 200 again', async () => (await app.http.get('/readyz')).status === 200, { timeoutMs: 15_000 });
  });
});
