import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpWithTeam, type TeamOwner } from './support/accounts.js';
import { startTestApp, type TestApp } from './support/app.js';
import { waitFor } from './support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

/** The example event of PagerDuty's Events API v2 reference (PagerDuty/api-schema, reference/events-v2/openapiv3.json). */
const documentedEvent = (routingKey: string) => ({
  payload: {
    summary: 'DISK at 99% on machine prod-datapipe03.example.com',
    timestamp: '2015-07-17T08:42:58.315+0000',
    severity: 'critical',
    source: 'prod-datapipe03.example.com',
    component: 'mysql',
    group: 'prod-datapipe',
    class: 'disk',
    custom_details: { 'free space': '1%', 'ping time': '1500ms', 'load avg': 0.75 },
  },
  routing_key: routingKey,
  dedup_key: 'srv01/mysql',
  event_action: 'trigger',
  client: 'Sample Monitoring Service',
  client_url: 'https://monitoring.service.com',
  links: [{ href: 'http://pagerduty.example.com', text: 'An example link.' }],
  images: [
    {
      src: 'https://chart.googleapis.com/chart?chs=600x400&chd=t:6,2,9,5,2,5,7,4,8,2,1&cht=lc&chds=a&chxt=y&chm=D,0033FF,0,0,5,1',
      href: 'https://google.com',
      alt: 'An example link with an image',
    },
  ],
});

const PROCESSED = (dedupKey: string) => ({ status: 'success', message: 'Event processed', dedup_key: dedupKey });

describe('PagerDuty Events API v2 at /v2/enqueue', () => {
  let app: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    app = await startTestApp({ QUOTA_TRIGGERS_PER_MINUTE: '5' });
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.stop();
  });

  async function teamWithKey(name: string, delaySeconds = 0): Promise<{ owner: TeamOwner; key: string; flowId: string }> {
    const owner = await signUpWithTeam(app.http, name);
    const flow = await app.http.post(
      `/teams/${owner.teamId}/flows`,
      { name: 'pagerduty senders', nodes: [{ name: 'hook', delaySeconds, target: { type: 'webhook', url: `${receiver.url}/${owner.teamId}` } }] },
      { token: owner.token },
    );
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    const created = await app.http.post(`/teams/${owner.teamId}/flows/${flow.body.id}/integration-keys`, undefined, { token: owner.token });
    expect(created.status).toBe(201);
    return { owner, key: created.body.key, flowId: flow.body.id };
  }

  const alertsOf = async (owner: TeamOwner) =>
    (await app.http.get(`/teams/${owner.teamId}/alerts`, { token: owner.token })).body as { id: string; status: string; summary: string }[];

  it("takes PagerDuty's documented example event, answers its documented response, pages, and keeps the event's context on the alert", async () => {
    const { owner, key } = await teamWithKey('documented');
    const response = await app.http.post('/v2/enqueue', documentedEvent(key));
    expect(response.status).toBe(202);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(response.body).toEqual(PROCESSED('srv01/mysql'));

    const [alert] = await waitFor('the alert', async () => {
      const alerts = await alertsOf(owner);
      return alerts.length === 1 ? alerts : undefined;
    });
    const detail = (await app.http.get(`/teams/${owner.teamId}/alerts/${alert!.id}`, { token: owner.token })).body;
    expect(detail).toMatchObject({
      summary: 'DISK at 99% on machine prod-datapipe03.example.com',
      severity: 'critical',
      dedupKey: 'srv01/mysql',
      details: {
        custom_details: { 'free space': '1%', 'ping time': '1500ms', 'load avg': 0.75 },
        timestamp: '2015-07-17T08:42:58.315+0000',
        component: 'mysql',
        group: 'prod-datapipe',
        class: 'disk',
        client: 'Sample Monitoring Service',
        client_url: 'https://monitoring.service.com',
        links: documentedEvent(key).links,
        images: documentedEvent(key).images,
      },
    });
    const page = await waitFor('the page', async () => receiver.requests.find((request) => request.path === `/${owner.teamId}`));
    expect(page.json).toMatchObject({ alert: { id: alert!.id, summary: 'DISK at 99% on machine prod-datapipe03.example.com', severity: 'critical' } });

    const again = await app.http.post('/v2/enqueue', documentedEvent(key));
    expect(again.body).toEqual(PROCESSED('srv01/mysql'));
    await waitFor('the repeat folded', async () => (await app.http.get(`/teams/${owner.teamId}/alerts/${alert!.id}`, { token: owner.token })).body.dedupCount === 1);

    const acknowledged = await app.http.post('/v2/enqueue', { routing_key: key, dedup_key: 'srv01/mysql', event_action: 'acknowledge' });
    expect([acknowledged.status, acknowledged.body]).toEqual([202, PROCESSED('srv01/mysql')]);
    await waitFor('acknowledged', async () => (await alertsOf(owner))[0]?.status === 'acknowledged');
    const resolved = await app.http.post('/v2/enqueue', { routing_key: key, dedup_key: 'srv01/mysql', event_action: 'resolve' });
    expect([resolved.status, resolved.body]).toEqual([202, PROCESSED('srv01/mysql')]);
    await waitFor('resolved', async () => (await alertsOf(owner))[0]?.status === 'resolved');
    // Senders retry: acknowledging or resolving a resolved alert again is accepted and changes nothing.
    for (const event_action of ['acknowledge', 'resolve']) {
      const repeated = await app.http.post('/v2/enqueue', { routing_key: key, dedup_key: 'srv01/mysql', event_action });
      expect([repeated.status, repeated.body]).toEqual([202, PROCESSED('srv01/mysql')]);
    }

    const timeline = await app.http.get(`/teams/${owner.teamId}/alerts/${alert!.id}/timeline`, { token: owner.token });
    expect(timeline.body.at(-1)).toMatchObject({ type: 'AlertResolved', actor: expect.stringMatching(/^integration:[0-9a-f-]{36}$/) });
  });

  it('makes up a dedup key for a trigger without one and returns it; acknowledge and resolve of an unknown dedup key are accepted and change nothing', async () => {
    const { owner, key } = await teamWithKey('no dedup key', 3600);
    const { dedup_key: _dedupKey, ...withoutDedupKey } = documentedEvent(key);
    const triggered = await app.http.post('/v2/enqueue', withoutDedupKey);
    expect(triggered.status).toBe(202);
    expect(triggered.body).toEqual(PROCESSED(expect.stringMatching(/^[0-9a-f]{32}$/)));
    await waitFor('the alert', async () => (await alertsOf(owner)).length === 1);

    for (const event_action of ['acknowledge', 'resolve']) {
      // The context of an acknowledge or resolve is not read, so a partial one does not make the event invalid.
      const response = await app.http.post('/v2/enqueue', { routing_key: key, dedup_key: 'never-triggered', event_action, payload: { summary: 'gone' } });
      expect([response.status, response.body]).toEqual([202, PROCESSED('never-triggered')]);
    }
    const byDedupKey = await app.http.post('/v2/enqueue', { routing_key: key, dedup_key: triggered.body.dedup_key, event_action: 'acknowledge' });
    expect(byDedupKey.status).toBe(202);
    await waitFor('the made-up key acknowledges', async () => (await alertsOf(owner))[0]?.status === 'acknowledged');
    expect((await alertsOf(owner)).length).toBe(1);
  });

  it('answers an invalid event as PagerDuty does: 400 invalid event, naming each missing or wrong field', async () => {
    const { owner, key } = await teamWithKey('invalid events', 3600);
    const invalid = (errors: string[]) => ({ status: 'invalid event', message: 'Event object is invalid', errors });
    const event = documentedEvent(key);
    const without = (field: 'summary' | 'source' | 'severity') => {
      const { [field]: _left, ...payload } = event.payload;
      return { ...event, payload };
    };
    const cases: [string, unknown, string[]][] = [
      ['no summary', without('summary'), ["'payload.summary' is missing or blank"]],
      ['no source', without('source'), ["'payload.source' is missing or blank"]],
      ['no severity', without('severity'), ["'payload.severity' is missing or blank"]],
      ['a blank summary', { ...event, payload: { ...event.payload, summary: '  ' } }, ["'payload.summary' is missing or blank"]],
      [
        'an unknown severity',
        { ...event, payload: { ...event.payload, severity: 'disaster' } },
        ["'payload.severity' is invalid (must be one of the following: 'critical', 'error', 'warning' or 'info')"],
      ],
      [
        'an unknown action',
        { ...event, event_action: 'snooze' },
        ["'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')"],
      ],
      ['no payload', { routing_key: key, event_action: 'trigger' }, ["'payload' is missing or blank"]],
      ['a resolve without dedup key', { routing_key: key, event_action: 'resolve' }, ["'dedup_key' is missing or blank"]],
      ['no routing key', { ...event, routing_key: undefined }, ["'routing_key' is missing or blank"]],
      ['an unknown routing key', documentedEvent('aok_not-a-key-of-anybody'), ["'routing_key' is not a known integration key"]],
      ['not an object', ['trigger'], ["'routing_key' is missing or blank", "'event_action' is missing or blank"]],
    ];
    for (const [what, body, errors] of cases) {
      const response = await app.http.post('/v2/enqueue', body);
      expect([what, response.status, response.body]).toEqual([what, 400, invalid(errors)]);
      expect(response.headers.get('content-type')).toContain('application/json');
    }

    const revokedKey = await app.http.post(`/teams/${owner.teamId}/flows/${(await teamFlow(owner)).id}/integration-keys`, undefined, { token: owner.token });
    const revoked = await app.http.delete(`/teams/${owner.teamId}/flows/${(await teamFlow(owner)).id}/integration-keys/${revokedKey.body.id}`, {
      token: owner.token,
    });
    expect(revoked.status).toBe(200);
    const withRevokedKey = await app.http.post('/v2/enqueue', documentedEvent(revokedKey.body.key));
    expect([withRevokedKey.status, withRevokedKey.body]).toEqual([400, invalid(["'routing_key' is not a known integration key"])]);
    expect(await alertsOf(owner)).toEqual([]);
  });

  async function teamFlow(owner: TeamOwner): Promise<{ id: string }> {
    return (await app.http.get(`/teams/${owner.teamId}/flows`, { token: owner.token })).body[0];
  }

  it("counts triggers against the team's quota like the other integration routes", async () => {
    const { owner, key } = await teamWithKey('quota', 3600);
    // Eleven triggers within a minute reach at most two windows of five: at least one is refused, wherever the boundary falls.
    const answers = await Promise.all(
      Array.from({ length: 11 }, (_, index) => app.http.post('/v2/enqueue', { ...documentedEvent(key), dedup_key: `disk-${index}` })),
    );
    const refused = answers.filter((answer) => answer.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(answers.every((answer) => answer.status === 202 || answer.status === 429)).toBe(true);
    for (const answer of refused) {
      expect(answer.body).toMatchObject({ status: 429, code: 'quota_exceeded', quota: 'trigger_rate' });
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    const accepted = answers.filter((answer) => answer.status === 202).length;
    await waitFor('the accepted triggers', async () => (await alertsOf(owner)).length === accepted);
  });
});
