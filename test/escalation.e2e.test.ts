import amqp from 'amqplib';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerNames } from '../src/infra/broker-messages.js';
import { signUpWithTeam, type TeamOwner } from './support/accounts.js';
import { startTestApp, type TestApp } from './support/app.js';
import { purgeCascadeOnceItHoldsATimer } from './support/delay-cascade.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { waitFor } from './support/wait.js';
import { failFirst, startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

describe('escalation end to end', () => {
  let app: TestApp;
  let smtp: SmtpSink;
  let receiver: WebhookReceiver;
  let owner: TeamOwner;
  let webhookSecret: string;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    receiver = await startWebhookReceiver();
    app = await startTestApp({ SMTP_URL: smtp.url, SWEEPER_GRACE_SECONDS: '1', SWEEPER_INTERVAL_SECONDS: '0.5' });
    owner = await signUpWithTeam(app.http, 'Payments');
    const team = await app.http.get(`/teams/${owner.teamId}`, { token: owner.token });
    webhookSecret = team.body.webhookSecret;
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.stop();
    await smtp?.stop();
  });

  const hook = (name: string) => `${receiver.url}/${name}`;
  const webhookNode = (name: string, delaySeconds: number, retry = { maxAttempts: 3, backoffSeconds: 0.2 }) => ({
    name,
    delaySeconds,
    target: { type: 'webhook', url: hook(name) },
    retry,
  });
  const pagesTo = (name: string) => receiver.requests.filter((request) => request.path === `/${name}`);

  async function createFlow(nodes: unknown[], repeat = 0): Promise<string> {
    const response = await app.http.post(`/teams/${owner.teamId}/flows`, { name: `flow ${Math.random()}`, repeat, nodes }, { token: owner.token });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body.id;
  }

  async function trigger(flowId: string, extra: Record<string, unknown> = {}) {
    const response = await app.http.post(`/teams/${owner.teamId}/alerts`, { flowId, summary: 'Checkout is down', ...extra }, { token: owner.token });
    expect([200, 201], JSON.stringify(response.body)).toContain(response.status);
    return response.body as { id: string; status: string; deduplicated: boolean };
  }

  async function timeline(alertId: string): Promise<{ type: string; data: any; at: string }[]> {
    const response = await app.http.get(`/teams/${owner.teamId}/alerts/${alertId}/timeline`, { token: owner.token });
    expect(response.status).toBe(200);
    return response.body;
  }

  // How soon after its due time the page arrives (≤ 250 ms) is measured in escalation-timing.alone.test.ts, where no
  // other test file loads the machine.
  it('pages a node after its delay, signed, and records due and fire time', async () => {
    const flowId = await createFlow([webhookNode('timing', 1.5)]);
    const alert = await trigger(flowId);
    const [page] = await waitFor('the page', () => (pagesTo('timing').length ? pagesTo('timing') : undefined));
    const events = await timeline(alert.id);
    const triggeredAt = Date.parse(events.find((event) => event.type === 'AlertTriggered')!.data.triggeredAt);
    const lagMs = page!.receivedAt.getTime() - (triggeredAt + 1500);
    expect(lagMs).toBeGreaterThanOrEqual(0);

    const fired = events.find((event) => event.type === 'EscalationStepFired')!;
    expect(Date.parse(fired.data.dueAt)).toBe(triggeredAt + 1500);
    expect(Date.parse(fired.data.firedAt)).toBeGreaterThanOrEqual(triggeredAt + 1500);

    const body = page!.json as any;
    expect(body).toMatchObject({ alert: { id: alert.id, summary: 'Checkout is down', status: 'triggered' }, step: 0, attempt: 1, teamId: owner.teamId });
    expect(page!.headers['x-alertops-delivery']).toBe(body.deliveryId);
    expect(page!.headers['webhook-id']).toBe(body.deliveryId);
    expect(new Webhook(webhookSecret).verify(page!.rawBody.toString(), page!.headers as Record<string, string>)).toEqual(body);

    const metrics = await app.http.get('/metrics');
    expect(metrics.body).toMatch(/alertops_escalation_lag_seconds_count\{step="0"\} \d+/);
  });

  it('acknowledging before the due time pages nobody', async () => {
    const flowId = await createFlow([webhookNode('acked', 1)]);
    const alert = await trigger(flowId);
    const ack = await app.http.post(`/teams/${owner.teamId}/alerts/${alert.id}/acknowledge`, undefined, { token: owner.token });
    expect(ack.status).toBe(200);
    expect(ack.body.status).toBe('acknowledged');
    const dueAt = Date.parse((await timeline(alert.id)).find((event) => event.type === 'EscalationStepScheduled')!.data.dueAt);
    // Past the due time and the sweeper's grace: any page would have happened by now.
    await waitFor('the due time and grace to pass', () => Date.now() > dueAt + 2000, { timeoutMs: 10_000 });
    expect(pagesTo('acked')).toHaveLength(0);
    expect((await timeline(alert.id)).map((event) => event.type)).not.toContain('EscalationStepFired');
    const again = await app.http.post(`/teams/${owner.teamId}/alerts/${alert.id}/acknowledge`, undefined, { token: owner.token });
    expect(again.body).toMatchObject({ status: 'acknowledged', changed: false });
  });

  /** How many escalation timers the app's timer consumer has acted on, by outcome, from /metrics. */
  async function timerOutcomes(): Promise<{ fired: number; noop: number }> {
    const metrics = await app.http.get('/metrics');
    const count = (outcome: string) =>
      Number(new RegExp(`^alertops_escalation_timers_total\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec(metrics.body)?.[1] ?? 0);
    return { fired: count('fired'), noop: count('no-op') };
  }

  it('a timer delivered twice pages once', async () => {
    const flowId = await createFlow([webhookNode('twice', 0.5), webhookNode('twice-next', 30)]);
    const alert = await trigger(flowId);
    await waitFor('the page', () => pagesTo('twice').length === 1);
    const scheduled = (await timeline(alert.id)).find((event) => event.type === 'EscalationStepScheduled')!.data;
    const before = await timerOutcomes();
    const connection = await amqp.connect(app.config.amqpUrl);
    try {
      const channel = await connection.createConfirmChannel();
      const names = brokerNames(app.config.amqpPrefix);
      const timer = { kind: 'escalation', alertId: alert.id, epoch: scheduled.epoch, loop: 0, step: 0, dueAt: scheduled.dueAt };
      channel.sendToQueue(names.timersDueQueue, Buffer.from(JSON.stringify(timer)), { persistent: true });
      channel.sendToQueue(names.timersDueQueue, Buffer.from(JSON.stringify(timer)), { persistent: true });
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }
    // An empty queue says nothing: the consumer may hold both copies unprocessed. It counts each timer once the
    // engine has decided on it; nothing else is due in this app meanwhile (the next step is 30 s away).
    const after = await waitFor('both copies to go through the fire path', async () => {
      const outcomes = await timerOutcomes();
      return outcomes.fired + outcomes.noop >= before.fired + before.noop + 2 && outcomes;
    });
    expect({ fired: after.fired - before.fired, noop: after.noop - before.noop }).toEqual({ fired: 0, noop: 2 });
    const events = await timeline(alert.id);
    expect(events.filter((event) => event.type === 'EscalationStepFired').map((event) => [event.data.loop, event.data.step])).toEqual([[0, 0]]);
    expect(events.filter((event) => event.type === 'NotificationRequested')).toHaveLength(1);
    expect(pagesTo('twice')).toHaveLength(1);
  });

  it('delivers a webhook failing twice on attempt 3 under one delivery id', async () => {
    receiver.respondWith((request, index) => (request.path === '/flaky' && pagesTo('flaky').length <= 2 ? { status: 500 } : { status: 200 }));
    const flowId = await createFlow([webhookNode('flaky', 0, { maxAttempts: 3, backoffSeconds: 0.2 })]);
    const alert = await trigger(flowId);
    await waitFor('three attempts', () => pagesTo('flaky').length === 3);
    const deliveryIds = new Set(pagesTo('flaky').map((request) => request.headers['x-alertops-delivery']));
    expect(deliveryIds.size).toBe(1);
    expect(pagesTo('flaky').map((request) => (request.json as any).attempt)).toEqual([1, 2, 3]);
    const detail = await waitFor('delivered status', async () => {
      const response = await app.http.get(`/teams/${owner.teamId}/alerts/${alert.id}`, { token: owner.token });
      return response.body.notifications[0]?.status === 'delivered' ? response.body : undefined;
    });
    expect(detail.notifications[0]).toMatchObject({ attempts: 3, status: 'delivered' });
    receiver.respondWith(() => ({ status: 200 }));
  });

  it('removing a node from a flow does not change an alert already running on it', async () => {
    const flowId = await createFlow([webhookNode('first', 0), webhookNode('second', 1)]);
    const alert = await trigger(flowId);
    const flow = await app.http.get(`/teams/${owner.teamId}/flows/${flowId}`, { token: owner.token });
    const second = flow.body.nodes[1].id;
    const removed = await app.http.delete(`/teams/${owner.teamId}/flows/${flowId}/nodes/${second}`, { token: owner.token });
    expect(removed.status).toBe(200);
    await waitFor('the removed node to be paged for the running alert', () => pagesTo('second').length === 1);
    const detail = await app.http.get(`/teams/${owner.teamId}/alerts/${alert.id}`, { token: owner.token });
    expect(detail.body.flowVersion).toBe(1);
  });

  it('a repeat-1 flow loops once then exhausts', async () => {
    const flowId = await createFlow([webhookNode('loop', 0.2)], 1);
    const alert = await trigger(flowId);
    await waitFor('exhaustion', async () => (await timeline(alert.id)).some((event) => event.type === 'EscalationExhausted'));
    await waitFor('both pages', () => pagesTo('loop').length === 2);
    const fired = (await timeline(alert.id)).filter((event) => event.type === 'EscalationStepFired').map((event) => event.data.loop);
    expect(fired).toEqual([0, 1]);
  });

  it('concurrent triggers with the same dedup key open one alert', async () => {
    const flowId = await createFlow([webhookNode('dedup', 30)]);
    const results = await Promise.all(Array.from({ length: 10 }, () => trigger(flowId, { dedupKey: 'disk-full-db1' })));
    expect(new Set(results.map((result) => result.id)).size).toBe(1);
    expect(results.filter((result) => !result.deduplicated)).toHaveLength(1);
    const detail = await app.http.get(`/teams/${owner.teamId}/alerts/${results[0]!.id}`, { token: owner.token });
    expect(detail.body.dedupCount).toBe(9);
    // After resolving, the same key opens a new alert.
    await app.http.post(`/teams/${owner.teamId}/alerts/${results[0]!.id}/resolve`, undefined, { token: owner.token });
    const reopened = await trigger(flowId, { dedupKey: 'disk-full-db1' });
    expect(reopened.id).not.toBe(results[0]!.id);
    expect(reopened.deduplicated).toBe(false);
  });

  it('a key that keeps firing: five repeats in the timeline, every repeat in dedupCount; timeline and list page', async () => {
    const flowId = await createFlow([webhookNode('flapping', 600)]);
    const first = await trigger(flowId, { dedupKey: 'flapping-db' });
    for (let repeat = 0; repeat < 25; repeat++) expect((await trigger(flowId, { dedupKey: 'flapping-db' })).deduplicated).toBe(true);
    const whole = await timeline(first.id);
    expect(whole.filter((entry) => entry.type === 'AlertDeduplicated')).toHaveLength(5);
    const detail = await app.http.get(`/teams/${owner.teamId}/alerts/${first.id}`, { token: owner.token });
    expect(detail.body.dedupCount).toBe(25);

    const paged: { version: number }[] = [];
    for (let after: number | undefined; ; ) {
      const query = after === undefined ? '?limit=2' : `?limit=2&after=${after}`;
      const page = await app.http.get(`/teams/${owner.teamId}/alerts/${first.id}/timeline${query}`, { token: owner.token });
      expect(page.status).toBe(200);
      if (page.body.length === 0) break;
      expect(page.body.length).toBeLessThanOrEqual(2);
      paged.push(...page.body);
      after = page.body.at(-1).version;
    }
    expect(paged).toEqual(whole);
    const beyond = await app.http.get(`/teams/${owner.teamId}/alerts/${first.id}/timeline?after=2147483647`, { token: owner.token });
    expect(beyond.body).toEqual([]);

    const listed: { id: string }[] = [];
    for (let before: string | undefined; ; ) {
      const query = before === undefined ? '?limit=3' : `?limit=3&before=${before}`;
      const page = await app.http.get(`/teams/${owner.teamId}/alerts${query}`, { token: owner.token });
      expect(page.status).toBe(200);
      if (page.body.length === 0) break;
      listed.push(...page.body);
      before = page.body.at(-1).id;
    }
    const all = await app.http.get(`/teams/${owner.teamId}/alerts?limit=500`, { token: owner.token });
    expect(listed.map((alert) => alert.id)).toEqual(all.body.map((alert: { id: string }) => alert.id));
    expect(new Set(listed.map((alert) => alert.id)).size).toBe(listed.length);
    const unknown = await app.http.get(`/teams/${owner.teamId}/alerts?before=${crypto.randomUUID()}`, { token: owner.token });
    expect(unknown.status).toBe(400);
  });

  it('pages an e-mail target and a team member at their address through SMTP', async () => {
    const flowId = await createFlow([
      { name: 'mail', delaySeconds: 0, target: { type: 'email', email: 'oncall@example.com' } },
      { name: 'member', delaySeconds: 0, target: { type: 'user', userId: owner.userId } },
    ]);
    const alert = await trigger(flowId, { summary: 'Database replica lag' });
    await waitFor('both e-mails', () => smtp.messages.filter((mail) => mail.subject.includes('Database replica lag')).length === 2);
    const recipients = smtp.messages.filter((mail) => mail.subject.includes('Database replica lag')).flatMap((mail) => mail.to);
    expect(recipients.sort()).toEqual(['oncall@example.com', owner.email].sort());
    expect(alert.status).toBe('triggered');
  });

  it('purging the delay queues still pages, through the sweeper', async () => {
    const flowId = await createFlow([webhookNode('purged', 1.5)]);
    await trigger(flowId);
    await purgeCascadeOnceItHoldsATimer(app);
    await waitFor('the sweeper to page', () => pagesTo('purged').length === 1, { timeoutMs: 15_000 });
  });

  it('refuses bad input: unknown flow, another team, bad ids', async () => {
    const unknownFlow = await app.http.post(`/teams/${owner.teamId}/alerts`, { flowId: crypto.randomUUID(), summary: 'x' }, { token: owner.token });
    expect(unknownFlow.status).toBe(404);
    const badBody = await app.http.post(`/teams/${owner.teamId}/alerts`, { flowId: 'nope', summary: 5 }, { token: owner.token });
    expect(badBody.status).toBe(400);
    const flowId = await createFlow([webhookNode('isolated', 60)]);
    const alert = await trigger(flowId);

    const stranger = await signUpWithTeam(app.http, 'Other team');
    for (const path of [`/teams/${owner.teamId}/alerts/${alert.id}`, `/teams/${owner.teamId}/alerts/${alert.id}/timeline`]) {
      expect((await app.http.get(path, { token: stranger.token })).status).toBe(404);
    }
    for (const action of ['acknowledge', 'resolve', 'escalate']) {
      expect((await app.http.post(`/teams/${owner.teamId}/alerts/${alert.id}/${action}`, undefined, { token: stranger.token })).status).toBe(404);
      expect((await app.http.post(`/teams/${stranger.teamId}/alerts/${alert.id}/${action}`, undefined, { token: stranger.token })).status).toBe(404);
    }
    const foreignTrigger = await app.http.post(`/teams/${stranger.teamId}/alerts`, { flowId, summary: 'x' }, { token: stranger.token });
    expect(foreignTrigger.status).toBe(404);
    expect((await app.http.get(`/teams/${owner.teamId}/alerts/not-a-uuid`, { token: owner.token })).status).toBe(400);
  });
});
