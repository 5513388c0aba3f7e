import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SUBSCRIPTIONS_PER_TEAM } from '../src/domain/subscription/decider.js';
import { addMember, signUp, signUpWithTeam, type TeamOwner } from './support/accounts.js';
import { startTestApp, type TestApp } from './support/app.js';
import { waitFor } from './support/wait.js';
import { alwaysOk, failFirst, type ReceivedWebhook, startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

interface LifecycleBody {
  id: string;
  type: string;
  at: string;
  teamId: string;
  alert: { id: string; summary: string; severity: string; status: string };
  data: Record<string, unknown>;
}

const bodyOf = (request: ReceivedWebhook) => request.json as LifecycleBody;

describe('lifecycle webhooks', () => {
  let app: TestApp;
  let pager: WebhookReceiver;
  const receivers: WebhookReceiver[] = [];

  beforeAll(async () => {
    pager = await startWebhookReceiver(alwaysOk);
    app = await startTestApp({ WEBHOOK_TIMEOUT_MS: '4000', SWEEPER_INTERVAL_SECONDS: '1' });
  });
  afterAll(async () => {
    await app?.stop();
    await Promise.all([pager, ...receivers].map((receiver) => receiver?.stop()));
  });

  async function receiver(plan = alwaysOk): Promise<WebhookReceiver> {
    const started = await startWebhookReceiver(plan);
    receivers.push(started);
    return started;
  }

  async function flowOf(owner: TeamOwner, node: Record<string, unknown> = {}): Promise<string> {
    const flow = await app.http.post(
      `/teams/${owner.teamId}/flows`,
      { name: 'primary', nodes: [{ name: 'page', delaySeconds: 0, target: { type: 'webhook', url: `${pager.url}/page` }, ...node }] },
      { token: owner.token },
    );
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    return flow.body.id as string;
  }

  async function subscribe(owner: TeamOwner, url: string, events: string[]): Promise<string> {
    const created = await app.http.post(`/teams/${owner.teamId}/subscriptions`, { url, events }, { token: owner.token });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body.id as string;
  }

  async function trigger(owner: TeamOwner, flowId: string, summary: string): Promise<string> {
    const alert = await app.http.post(`/teams/${owner.teamId}/alerts`, { flowId, summary, severity: 'critical' }, { token: owner.token });
    expect(alert.status, JSON.stringify(alert.body)).toBe(201);
    return alert.body.id as string;
  }

  const secretOf = async (owner: TeamOwner) => (await app.http.get(`/teams/${owner.teamId}`, { token: owner.token })).body.webhookSecret as string;

  it('a subscriber gets triggered, acknowledged and resolved in order, signed, with the same webhook-id when a delivery is retried', async () => {
    const owner = await signUpWithTeam(app.http, 'Ordered');
    const subscriber = await receiver(failFirst(1));
    await subscribe(owner, `${subscriber.url}/lifecycle`, ['alert.triggered', 'alert.acknowledged', 'alert.resolved']);
    const flowId = await flowOf(owner);
    const alertId = await trigger(owner, flowId, 'disk full on db1');
    expect((await app.http.post(`/teams/${owner.teamId}/alerts/${alertId}/acknowledge`, undefined, { token: owner.token })).status).toBe(200);
    expect((await app.http.post(`/teams/${owner.teamId}/alerts/${alertId}/resolve`, undefined, { token: owner.token })).status).toBe(200);

    await waitFor('four lifecycle requests', () => subscriber.requests.length >= 4 || undefined, { timeoutMs: 20_000 });
    const received = subscriber.requests.map(bodyOf);
    // The first answer was a 500: the triggered event came again before anything later was sent.
    expect(received.map((body) => body.type)).toEqual(['alert.triggered', 'alert.triggered', 'alert.acknowledged', 'alert.resolved']);
    const ids = subscriber.requests.map((request) => request.headers['webhook-id']);
    expect(ids[0]).toBe(ids[1]);
    expect(new Set(ids).size).toBe(3);
    expect(received.map((body) => body.id)).toEqual(ids);
    expect(received.map((body) => body.alert.status)).toEqual(['triggered', 'triggered', 'acknowledged', 'resolved']);
    expect(received[3]).toMatchObject({
      teamId: owner.teamId,
      alert: { id: alertId, summary: 'disk full on db1', severity: 'critical', status: 'resolved' },
      data: { by: `user:${owner.userId}` },
    });
    expect(received[0]!.data).toMatchObject({ flowId, flowVersion: 1 });

    const secret = await secretOf(owner);
    for (const request of subscriber.requests) {
      expect(new Webhook(secret).verify(request.rawBody.toString('utf8'), request.headers as Record<string, string>)).toEqual(request.json);
    }
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).verify(subscriber.requests[0]!.rawBody.toString('utf8'), subscriber.requests[0]!.headers as Record<string, string>)).toThrow();

    // Each delivery is recorded delivered, after as many attempts as the receiver saw.
    const rows = await waitFor('every delivery settled', async () => {
      const { rows: deliveries } = await app.database.pool.query<{ id: string; status: string; attempts: number }>(
        'select id, status, attempts from subscription_deliveries where alert_id = $1 order by stream_version',
        [alertId],
      );
      return deliveries.every((delivery) => delivery.status !== 'pending') ? deliveries : undefined;
    });
    expect(rows.map((row) => [row.id, row.status, row.attempts])).toEqual([
      [ids[0], 'delivered', 2],
      [ids[2], 'delivered', 1],
      [ids[3], 'delivered', 1],
    ]);
    expect(subscriber.requests).toHaveLength(4);
  });

  it('escalations and pages that reached nobody are events too; a subscriber hears only the types it chose', async () => {
    const owner = await signUpWithTeam(app.http, 'Escalating');
    const everything = await receiver();
    const onlyFailures = await receiver();
    await subscribe(owner, `${everything.url}/all`, ['alert.triggered', 'alert.escalated', 'notification.failed']);
    await subscribe(owner, `${onlyFailures.url}/failures`, ['notification.failed']);
    pager.respondWith((request, index) => (request.path === '/broken' ? { status: 503 } : alwaysOk(request, index)));
    const flow = await app.http.post(
      `/teams/${owner.teamId}/flows`,
      {
        name: 'broken',
        nodes: [
          { name: 'page', delaySeconds: 0, target: { type: 'webhook', url: `${pager.url}/page` } },
          { name: 'later', delaySeconds: 3600, target: { type: 'webhook', url: `${pager.url}/broken` }, retry: { maxAttempts: 1, backoffSeconds: 1 } },
        ],
      },
      { token: owner.token },
    );
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    const alertId = await trigger(owner, flow.body.id as string, 'queue stuck');
    await waitFor('the first step', () => everything.requests.some((request) => bodyOf(request).type === 'alert.escalated') || undefined);
    // Escalating now fires the second step, an hour early; its page reaches nobody.
    expect((await app.http.post(`/teams/${owner.teamId}/alerts/${alertId}/escalate`, undefined, { token: owner.token })).status).toBe(200);

    const failed = await waitFor('the failed page', () => onlyFailures.requests[0], { timeoutMs: 20_000 });
    expect(bodyOf(failed)).toMatchObject({ type: 'notification.failed', alert: { id: alertId }, data: { attempt: 1, error: 'HTTP 503' } });
    await waitFor('every event', () => everything.requests.length >= 5 || undefined, { timeoutMs: 20_000 });
    const received = everything.requests.map(bodyOf);
    expect(received.map((body) => [body.type, body.data.manual ?? null, body.data.step ?? null])).toEqual([
      ['alert.triggered', null, null],
      ['alert.escalated', false, 0],
      ['alert.escalated', true, null],
      ['alert.escalated', false, 1],
      ['notification.failed', null, null],
    ]);
    expect(onlyFailures.requests.every((request) => bodyOf(request).type === 'notification.failed')).toBe(true);
  });

  it('a note added to an alert reaches the subscribers of alert.note_added, with its author and text', async () => {
    const owner = await signUpWithTeam(app.http, 'Noting');
    const member = await addMember(app.http, owner, 'member');
    const subscriber = await receiver();
    await subscribe(owner, `${subscriber.url}/notes`, ['alert.note_added']);
    const alertId = await trigger(owner, await flowOf(owner), 'error rate up');
    const note = await app.http.post(`/teams/${owner.teamId}/alerts/${alertId}/notes`, { text: 'Rolled back release 42' }, { token: member.token });
    expect(note.status, JSON.stringify(note.body)).toBe(201);
    const arrived = await waitFor('the note', () => subscriber.requests[0], { timeoutMs: 15_000 });
    expect(bodyOf(arrived)).toMatchObject({
      type: 'alert.note_added',
      teamId: owner.teamId,
      alert: { id: alertId, summary: 'error rate up', status: 'triggered' },
      data: { noteId: note.body.id, text: 'Rolled back release 42', by: `user:${member.userId}`, at: note.body.at },
    });
    expect(subscriber.requests).toHaveLength(1);
  });

  it("a subscriber of one team that hangs does not hold back another team's deliveries", async () => {
    const hanging = await receiver(() => ({ hang: true }));
    const teamA = await signUpWithTeam(app.http, 'Hanging');
    await subscribe(teamA, `${hanging.url}/a`, ['alert.triggered']);
    const flowA = await flowOf(teamA);
    for (let index = 0; index < 30; index++) await trigger(teamA, flowA, `a ${index}`);
    await waitFor('team A holding its senders', () => hanging.requests.length >= 4 || undefined, { timeoutMs: 15_000 });

    const healthy = await receiver();
    const teamB = await signUpWithTeam(app.http, 'Healthy');
    await subscribe(teamB, `${healthy.url}/b`, ['alert.triggered']);
    const flowB = await flowOf(teamB);
    const alertB = await trigger(teamB, flowB, 'b');
    // From the trigger's answer: the delivery's own path (the log, the reactor, the sender), not the API's.
    const started = Date.now();
    const delivered = await waitFor("team B's delivery", () => healthy.requests[0], { timeoutMs: 30_000 });
    const waitedMs = delivered.receivedAt.getTime() - started;
    console.log(`lifecycle webhooks: team B's delivery ${waitedMs} ms after its trigger was answered, beside team A's ${hanging.requests.length} hanging sends`);
    expect(bodyOf(delivered).alert.id).toBe(alertB);
    // Team A's receiver holds each of its sends for the whole 4 s timeout; team B's goes out well within one.
    expect(waitedMs).toBeLessThan(3000);
  });

  it('owners and admins subscribe and delete, viewers read with URLs redacted, others are refused, and each change is audited', async () => {
    const owner = await signUpWithTeam(app.http, 'Managed');
    const admin = await addMember(app.http, owner, 'admin');
    const member = await addMember(app.http, owner, 'member');
    const viewer = await addMember(app.http, owner, 'viewer');
    const outsider = await signUpWithTeam(app.http, 'Elsewhere');
    const path = `/teams/${owner.teamId}/subscriptions`;
    const url = 'http://127.0.0.1:9/hooks/abcdef0123456789abcdef0123456789';

    const byAdmin = await app.http.post(path, { url, events: ['alert.resolved'] }, { token: admin.token });
    expect(byAdmin.status, JSON.stringify(byAdmin.body)).toBe(201);
    expect((await app.http.post(path, { url, events: ['alert.resolved'] }, { token: member.token })).status).toBe(403);
    expect((await app.http.post(path, { url, events: ['alert.resolved'] }, { token: viewer.token })).status).toBe(403);
    expect((await app.http.post(path, { url, events: ['alert.resolved'] }, { token: outsider.token })).status).toBe(404);

    const listed = await app.http.get(path, { token: owner.token });
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([{ id: byAdmin.body.id, url, events: ['alert.resolved'], createdAt: expect.any(String) }]);
    const seenByViewer = await app.http.get(path, { token: viewer.token });
    expect(seenByViewer.status).toBe(200);
    expect(seenByViewer.body[0].url).toBe('http://127.0.0.1:9/hooks/redacted');
    expect((await app.http.get(path, { token: outsider.token })).status).toBe(404);

    expect((await app.http.delete(`${path}/${byAdmin.body.id}`, { token: member.token })).status).toBe(403);
    expect((await app.http.delete(`/teams/${outsider.teamId}/subscriptions/${byAdmin.body.id}`, { token: outsider.token })).status).toBe(404);
    expect((await app.http.delete(`${path}/${randomUUID()}`, { token: owner.token })).status).toBe(404);
    expect((await app.http.delete(`${path}/${byAdmin.body.id}`, { token: owner.token })).status).toBe(204);
    expect((await app.http.delete(`${path}/${byAdmin.body.id}`, { token: owner.token })).status).toBe(404);
    expect((await app.http.get(path, { token: owner.token })).body).toEqual([]);

    const audit = await app.http.get(`/teams/${owner.teamId}/audit`, { token: owner.token });
    const changes = (audit.body as { type: string; actor: string }[]).filter((entry) => entry.type.startsWith('Subscription'));
    expect(changes.map((entry) => [entry.type, entry.actor])).toEqual([
      ['SubscriptionDeleted', `user:${owner.userId}`],
      ['SubscriptionCreated', `user:${admin.userId}`],
    ]);
    const viewerAudit = await app.http.get(`/teams/${owner.teamId}/audit`, { token: viewer.token });
    expect(JSON.stringify(viewerAudit.body)).not.toContain('abcdef0123456789');
  });

  it('bad input is 400 naming the field; private targets are refused; a team holds a bounded number of subscriptions', async () => {
    const owner = await signUp(app.http);
    const team = await app.http.post('/teams', { name: 'Capped' }, { token: owner.token });
    const path = `/teams/${team.body.id}/subscriptions`;
    const post = (body: unknown) => app.http.post(path, body, { token: owner.token });

    const unknownType = await post({ url: 'https://hooks.example.com/x', events: ['alert.triggered', 'alert.exploded'] });
    expect(unknownType.status).toBe(400);
    expect(unknownType.headers.get('content-type')).toMatch(/problem\+json/);
    expect(unknownType.body.errors.map((error: { path: string }) => error.path)).toEqual([expect.stringMatching(/^body\.events/)]);
    for (const body of [
      { url: 'https://hooks.example.com/x', events: [] },
      { url: 'https://hooks.example.com/x' },
      { url: 'ftp://hooks.example.com/x', events: ['alert.triggered'] },
      { url: 'https://hooks.example.com/x', events: 'alert.triggered' },
      { url: 'https://hooks.example.com/x', events: ['alert.triggered'], extra: true },
    ]) {
      expect((await post(body)).status, JSON.stringify(body)).toBe(400);
    }
    for (const url of ['http://10.0.0.8/hook', 'http://169.254.169.254/latest/meta-data', 'http://[fe80::1]/hook']) {
      const refused = await post({ url, events: ['alert.triggered'] });
      expect(refused.status, url).toBe(400);
      expect(refused.body.errors[0].path).toBe('body.url');
    }

    for (let index = 0; index < MAX_SUBSCRIPTIONS_PER_TEAM; index++) {
      expect((await post({ url: `http://127.0.0.1:9/${index}`, events: ['alert.triggered'] })).status).toBe(201);
    }
    const over = await post({ url: 'http://127.0.0.1:9/over', events: ['alert.triggered'] });
    expect(over.status).toBe(409);
    const page = await app.http.get(`${path}?limit=5`, { token: owner.token });
    expect(page.body).toHaveLength(5);
    const next = await app.http.get(`${path}?limit=20&after=${page.body[4].id}`, { token: owner.token });
    expect(next.body).toHaveLength(MAX_SUBSCRIPTIONS_PER_TEAM - 5);
    expect(next.body[0].id > page.body[4].id).toBe(true);
  });

  it('deleting a subscription cancels what was not sent to it yet', async () => {
    const owner = await signUpWithTeam(app.http, 'Unsubscribing');
    const subscriber = await receiver(() => ({ status: 500 }));
    const subscriptionId = await subscribe(owner, `${subscriber.url}/gone`, ['alert.triggered', 'alert.resolved']);
    const alertId = await trigger(owner, await flowOf(owner), 'soon unsubscribed');
    expect((await app.http.post(`/teams/${owner.teamId}/alerts/${alertId}/resolve`, undefined, { token: owner.token })).status).toBe(200);
    await waitFor('the first failed attempt', () => subscriber.requests[0], { timeoutMs: 15_000 });
    expect((await app.http.delete(`/teams/${owner.teamId}/subscriptions/${subscriptionId}`, { token: owner.token })).status).toBe(204);
    const statuses = await waitFor('the deliveries cancelled', async () => {
      const { rows } = await app.database.pool.query<{ type: string; status: string }>(
        'select type, status from subscription_deliveries where subscription_id = $1 order by stream_version',
        [subscriptionId],
      );
      return rows.every((row) => row.status === 'cancelled') && rows.length === 2 ? rows : undefined;
    });
    expect(statuses.map((row) => row.type)).toEqual(['alert.triggered', 'alert.resolved']);
    expect(subscriber.requests.map((request) => bodyOf(request).type)).not.toContain('alert.resolved');
  });

  it('a line whose work was lost is handed back to the sender by the sweep', async () => {
    const owner = await signUpWithTeam(app.http, 'Lost');
    const subscriber = await receiver();
    const subscriptionId = await subscribe(owner, `${subscriber.url}/lost`, ['alert.triggered']);
    const deliveryId = randomUUID();
    const alertId = randomUUID();
    const body = { id: deliveryId, type: 'alert.triggered', at: new Date().toISOString(), teamId: owner.teamId, alert: { id: alertId }, data: {} };
    // A delivery row as the reactor writes it, whose work message never reached the broker.
    await app.database.pool.query(
      `insert into subscription_deliveries (id, team_id, subscription_id, alert_id, stream_version, type, url, body, status, next_attempt_at, created_at)
       values ($1, $2, $3, $4, 0, 'alert.triggered', $5, $6::jsonb, 'pending', now() - interval '1 minute', now() - interval '1 minute')`,
      [deliveryId, owner.teamId, subscriptionId, alertId, `${subscriber.url}/lost`, JSON.stringify(body)],
    );
    const arrived = await waitFor('the swept delivery', () => subscriber.requests[0], { timeoutMs: 15_000 });
    expect(arrived.headers['webhook-id']).toBe(deliveryId);
    expect(arrived.json).toEqual(body);
    await waitFor('the delivery recorded', async () => {
      const { rows } = await app.database.pool.query<{ status: string; attempts: number }>('select status, attempts from subscription_deliveries where id = $1', [deliveryId]);
      return rows[0]?.status === 'delivered' ? rows[0] : undefined;
    });
  });

  it('a delivery whose sender died mid-send is sent again under the same webhook-id once its lease has run out', async () => {
    const owner = await signUpWithTeam(app.http, 'Cut off');
    const subscriber = await receiver();
    const subscriptionId = await subscribe(owner, `${subscriber.url}/cut-off`, ['alert.triggered']);
    const deliveryId = randomUUID();
    const body = { id: deliveryId, type: 'alert.triggered', at: new Date().toISOString(), teamId: owner.teamId, alert: { id: randomUUID() }, data: {} };
    // Attempt 1 was claimed by a sender that is gone: its lease runs out 3 s from now.
    const leaseEndsAt = Date.now() + 3000;
    await app.database.pool.query(
      `insert into subscription_deliveries
         (id, team_id, subscription_id, alert_id, stream_version, type, url, body, status, attempts, lease_until, next_attempt_at, created_at)
       values ($1, $2, $3, $4, 0, 'alert.triggered', $5, $6::jsonb, 'pending', 1, $7, now() - interval '1 minute', now() - interval '1 minute')`,
      [deliveryId, owner.teamId, subscriptionId, body.alert.id, `${subscriber.url}/cut-off`, JSON.stringify(body), new Date(leaseEndsAt)],
    );
    const arrived = await waitFor('the resend', () => subscriber.requests[0], { timeoutMs: 15_000 });
    expect(arrived.receivedAt.getTime()).toBeGreaterThanOrEqual(leaseEndsAt);
    expect(arrived.headers['webhook-id']).toBe(deliveryId);
    expect(arrived.headers['x-alertops-attempt']).toBe('2');
  });

  // Last: it restarts the service.
  it('a delivery waiting for its retry survives a restart and comes again under the same webhook-id, before anything later', async () => {
    const owner = await signUpWithTeam(app.http, 'Restarted');
    const subscriber = await receiver(failFirst(1));
    await subscribe(owner, `${subscriber.url}/restart`, ['alert.triggered', 'alert.resolved']);
    const flowId = await flowOf(owner);
    const alertId = await trigger(owner, flowId, 'restart me');
    await waitFor('the first, failed attempt', () => subscriber.requests[0], { timeoutMs: 15_000 });
    await app.restart({ WEBHOOK_TIMEOUT_MS: '4000', SWEEPER_INTERVAL_SECONDS: '1' });
    expect((await app.http.post(`/teams/${owner.teamId}/alerts/${alertId}/resolve`, undefined, { token: owner.token })).status).toBe(200);

    await waitFor('the retry and the resolution', () => subscriber.requests.length >= 3 || undefined, { timeoutMs: 20_000 });
    const ids = subscriber.requests.map((request) => request.headers['webhook-id']);
    expect(subscriber.requests.map((request) => bodyOf(request).type)).toEqual(['alert.triggered', 'alert.triggered', 'alert.resolved']);
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).not.toBe(ids[0]);
  });
});
