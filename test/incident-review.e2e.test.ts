import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IncidentReport } from '../src/domain/alert/report.js';
import { addMember, type SignedUpUser, signUp, type TeamOwner } from './support/accounts.js';
import { startTestApp, type TestApp } from './support/app.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { waitFor } from './support/wait.js';
import { failFirst, startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

const run = promisify(execFile);
/** A path segment that looks like a credential: viewers see it redacted. */
const HOOK_TOKEN = 'T0ken4a8c2e91f7';

interface TimelineEvent {
  type: string;
  data: any;
  at: string;
}

describe('incident review end to end', () => {
  let app: TestApp;
  let smtp: SmtpSink;
  let receiver: WebhookReceiver;
  let owner: TeamOwner;
  let viewer: SignedUpUser;
  let responder: SignedUpUser;
  let flowId: string;
  let alertId: string;
  let events: TimelineEvent[];
  let report: IncidentReport;

  const auth = () => ({ token: owner.token });
  const eventOf = (type: string) => events.find((event) => event.type === type)!;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    receiver = await startWebhookReceiver(failFirst(1));
    app = await startTestApp({ SMTP_URL: smtp.url });
    const user = await signUp(app.http, { name: 'Olive Owner' });
    const team = await app.http.post('/teams', { name: 'Checkout' }, { token: user.token });
    owner = { ...user, teamId: team.body.id };
    viewer = await addMember(app.http, owner, 'viewer');
    responder = await addMember(app.http, owner, 'member');

    const flow = await app.http.post(
      `/teams/${owner.teamId}/flows`,
      {
        name: 'checkout on call',
        nodes: [
          { name: 'ops hook', delaySeconds: 0.3, target: { type: 'webhook', url: `${receiver.url}/ops/${HOOK_TOKEN}` }, retry: { maxAttempts: 3, backoffSeconds: 0.2 } },
          { name: 'responder', delaySeconds: 1, target: { type: 'user', userId: responder.userId } },
          { name: 'much later', delaySeconds: 3600, target: { type: 'email', email: 'later@example.com' } },
        ],
      },
      auth(),
    );
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    flowId = flow.body.id;
    const alert = await app.http.post(`/teams/${owner.teamId}/alerts`, { flowId, summary: 'Checkout is down', severity: 'critical' }, auth());
    expect(alert.status, JSON.stringify(alert.body)).toBe(201);
    alertId = alert.body.id;

    await waitFor('the webhook delivered on its second attempt', () => receiver.requests.length >= 2 || undefined);
    await waitFor('the responder paged by e-mail', () => smtp.messages.some((message) => message.to.includes(responder.email)) || undefined);
    await waitFor('both pages recorded as delivered', async () => {
      const detail = await app.http.get(`/teams/${owner.teamId}/alerts/${alertId}`, auth());
      return detail.body.notifications.length === 2 && detail.body.notifications.every((page: { status: string }) => page.status === 'delivered') || undefined;
    });
    expect((await app.http.post(`/teams/${owner.teamId}/alerts/${alertId}/acknowledge`, undefined, { token: responder.token })).status).toBe(200);
    expect((await app.http.post(`/teams/${owner.teamId}/alerts/${alertId}/resolve`, undefined, auth())).status).toBe(200);

    const timeline = await app.http.get(`/teams/${owner.teamId}/alerts/${alertId}/timeline`, auth());
    expect(timeline.status).toBe(200);
    events = timeline.body;
    const response = await app.http.get(`/teams/${owner.teamId}/alerts/${alertId}/report`, auth());
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    report = IncidentReport.parse(response.body);
  }, 60_000);
  afterAll(async () => {
    await app?.stop();
    await receiver?.stop();
    await smtp?.stop();
  });

  it('gives trigger, acknowledgement and resolution times exactly as the timeline records them', () => {
    const triggeredAt = eventOf('AlertTriggered').data.triggeredAt;
    const acknowledged = eventOf('AlertAcknowledged').data;
    const resolved = eventOf('AlertResolved').data;
    expect(report).toMatchObject({
      alert: { id: alertId, teamId: owner.teamId, summary: 'Checkout is down', severity: 'critical', status: 'resolved' },
      flow: { id: flowId, version: eventOf('AlertTriggered').data.flowVersion },
      triggeredAt,
      acknowledgedAt: acknowledged.at,
      acknowledgedBy: { actor: `user:${responder.userId}`, name: 'Test User' },
      resolvedAt: resolved.at,
      resolvedBy: { actor: `user:${owner.userId}`, name: 'Olive Owner' },
      timeToAcknowledgeMs: Date.parse(acknowledged.at) - Date.parse(triggeredAt),
      timeToResolveMs: Date.parse(resolved.at) - Date.parse(triggeredAt),
      nextStep: null,
    });
    expect(report.timeline.map((entry) => entry.type)).toEqual(events.map((event) => event.type));
    expect(report.lifecycle.map((change) => change.change)).toEqual(['acknowledged', 'resolved']);
  });

  it('gives every step fired with its due and fire times and lag, as the timeline records them', () => {
    const fired = events.filter((event) => event.type === 'EscalationStepFired').map((event) => event.data);
    expect(fired).toHaveLength(2);
    expect(report.steps.map(({ loop, step, dueAt, firedAt, lagMs }) => ({ loop, step, dueAt, firedAt, lagMs }))).toEqual(
      fired.map(({ loop, step, dueAt, firedAt, lagMs }) => ({ loop, step, dueAt, firedAt, lagMs })),
    );
    expect(Date.parse(report.steps[0]!.dueAt)).toBe(Date.parse(report.triggeredAt) + 300);
    expect(Date.parse(report.steps[1]!.dueAt)).toBe(Date.parse(report.triggeredAt) + 1300);
    expect(report.steps.map((step) => step.name)).toEqual(['ops hook', 'responder']);
  });

  it('gives who was paged, through which channel, with every attempt and its outcome', () => {
    const [hook, person] = report.steps.map((step) => step.pages);
    const failed = eventOf('NotificationFailed').data;
    const delivered = events.filter((event) => event.type === 'NotificationDelivered').map((event) => event.data);
    expect(hook).toHaveLength(1);
    expect(hook![0]).toMatchObject({
      channel: 'webhook',
      target: { type: 'webhook', url: `${receiver.url}/ops/${HOOK_TOKEN}` },
      recipient: null,
      status: 'delivered',
      attempts: [
        { attempt: 1, outcome: 'failed', outcomeAt: failed.failedAt, error: 'HTTP 500', retryAt: failed.retryAt },
        { attempt: 2, outcome: 'delivered', outcomeAt: delivered.find((data) => data.deliveryId === hook![0]!.deliveryId).deliveredAt },
      ],
    });
    expect(receiver.requests.map((request) => request.headers['webhook-id'])).toEqual([hook![0]!.deliveryId, hook![0]!.deliveryId]);
    expect(person).toEqual([
      expect.objectContaining({ channel: 'user', recipient: { userId: responder.userId, name: 'Test User' }, status: 'delivered', attempts: [expect.objectContaining({ attempt: 1, outcome: 'delivered' })] }),
    ]);
  });

  it('is readable by viewers, in markdown too, and another alert id is 404', async () => {
    const asViewer = await app.http.get(`/teams/${owner.teamId}/alerts/${alertId}/report`, { token: viewer.token });
    expect(asViewer.status).toBe(200);
    expect(asViewer.body.timeToAcknowledgeMs).toBe(report.timeToAcknowledgeMs);
    const redacted = `${receiver.url}/ops/redacted`;
    expect(asViewer.body.steps[0].pages[0].target.url).toBe(redacted);
    expect(asViewer.body.flow.steps[0].target.url).toBe(redacted);
    expect(JSON.stringify(asViewer.body)).not.toContain(HOOK_TOKEN);
    const markdown = await app.http.get(`/teams/${owner.teamId}/alerts/${alertId}/report?format=md`, { token: viewer.token });
    expect(markdown.status).toBe(200);
    expect(markdown.headers.get('content-type')).toMatch(/^text\/markdown/);
    expect(markdown.body).toContain('# Incident report: Checkout is down');
    expect(markdown.body).toContain(`Due ${report.steps[0]!.dueAt}, fired ${report.steps[0]!.firedAt}`);

    const unknown = await app.http.get(`/teams/${owner.teamId}/alerts/${crypto.randomUUID()}/report`, auth());
    expect(unknown.status).toBe(404);
    const badId = await app.http.get(`/teams/${owner.teamId}/alerts/not-an-id/report`, auth());
    expect(badId.status).toBe(400);
    const badFormat = await app.http.get(`/teams/${owner.teamId}/alerts/${alertId}/report?format=pdf`, auth());
    expect(badFormat.status).toBe(400);
    expect(badFormat.body.errors[0].path).toBe('query.format');
  });

  it('prints the same report from the CLI, in markdown and JSON', async () => {
    const cli = (...args: string[]) =>
      run('node', ['--import', 'tsx', 'src/cli.ts', 'incident', 'report', ...args], {
        env: { ...process.env, DATABASE_URL: app.database.url, EVENT_STORE: 'postgres', LOG_LEVEL: 'silent' },
        timeout: 60_000,
      });
    if (app.config.eventStore === 'memory') return;
    const json = await cli(alertId, '--format', 'json');
    expect(IncidentReport.parse(JSON.parse(json.stdout))).toEqual(report);
    const markdown = await cli(alertId);
    expect(markdown.stdout).toContain('# Incident report: Checkout is down');
    expect(markdown.stdout).toContain(`| Time to acknowledge |`);
    expect(markdown.stdout).toContain(`- Test User (user:${responder.userId}) by user:${responder.userId}: **delivered**`);
    const refused = await cli(alertId, '--format', 'pdf').then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(refused?.code).toBe(1);
    expect(refused?.stderr).toMatch(/--format must be md or json/);
  }, 120_000);

  it('counts the run in analytics: one alert, its times, its pages and its lag', async () => {
    const from = new Date(Date.parse(report.triggeredAt) - 60_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const response = await app.http.get(`/teams/${owner.teamId}/analytics?from=${from}&to=${to}`, { token: viewer.token });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body).toEqual({
      from,
      to,
      flows: [
        {
          flowId,
          name: 'checkout on call',
          alertsTriggered: 1,
          timeToAcknowledgeMs: { count: 1, mean: report.timeToAcknowledgeMs, p90: report.timeToAcknowledgeMs },
          timeToResolveMs: { count: 1, mean: report.timeToResolveMs, p90: report.timeToResolveMs },
          pages: 2,
          undeliveredPages: 0,
          pagesPerPerson: [{ userId: responder.userId, name: 'Test User', pages: 1 }],
          escalationLagMs: { steps: 2, p99: expect.closeTo(Math.max(...report.steps.map((step) => step.lagMs)) * 0.99 + Math.min(...report.steps.map((step) => step.lagMs)) * 0.01, 6) },
        },
      ],
      next: null,
    });
  });

  it('refuses a reversed range and one over 92 days with 400 naming `to`; another team is 404', async () => {
    const query = (from: string, to: string) => app.http.get(`/teams/${owner.teamId}/analytics?from=${from}&to=${to}`, auth());
    const reversed = await query('2026-03-02T00:00:00Z', '2026-03-01T00:00:00Z');
    expect(reversed.status).toBe(400);
    expect(reversed.body.errors).toEqual([{ path: 'query.to', message: expect.any(String) }]);
    const tooLong = await query('2026-01-01T00:00:00Z', '2026-04-03T00:00:01Z');
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.errors).toEqual([{ path: 'query.to', message: 'at most 92 days per call' }]);
    expect((await query('2026-01-01T00:00:00Z', '2026-04-03T00:00:00Z')).status).toBe(200);
    const notATime = await query('yesterday', '2026-04-03T00:00:00Z');
    expect(notATime.status).toBe(400);
    expect(notATime.body.errors[0].path).toBe('query.from');

    const stranger = await signUp(app.http);
    const elsewhere = await app.http.get(`/teams/${owner.teamId}/analytics`, { token: stranger.token });
    expect(elsewhere.status).toBe(404);
    const strangersReport = await app.http.get(`/teams/${owner.teamId}/alerts/${alertId}/report`, { token: stranger.token });
    expect(strangersReport.status).toBe(404);
  });
});
