import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpWithTeam, type TeamOwner } from './support/accounts.js';
import { startTestApp, type TestApp } from './support/app.js';
import { waitFor } from './support/wait.js';

describe('integrations: Events API and Alertmanager', () => {
  let app: TestApp;
  let owner: TeamOwner;
  let key: string;
  let flowId: string;

  beforeAll(async () => {
    app = await startTestApp();
    owner = await signUpWithTeam(app.http, 'Monitoring');
    const flow = await app.http.post(
      `/teams/${owner.teamId}/flows`,
      { name: 'prometheus', nodes: [{ name: 'later', delaySeconds: 600, target: { type: 'email', email: 'oncall@example.com' } }] },
      { token: owner.token },
    );
    flowId = flow.body.id;
    const created = await app.http.post(`/teams/${owner.teamId}/flows/${flowId}/integration-keys`, undefined, { token: owner.token });
    expect(created.status).toBe(201);
    key = created.body.key;
  });
  afterAll(async () => {
    await app?.stop();
  });

  const alertStatus = async (alertId: string) =>
    (await app.http.get(`/teams/${owner.teamId}/alerts/${alertId}`, { token: owner.token })).body.status as string | undefined;

  it('triggers, folds a repeat by dedup key, acknowledges and resolves through the Events API', async () => {
    const payload = { summary: 'CPU above 90% on web-3', severity: 'warning', source: 'web-3', custom_details: { cpu: 93 } };
    const first = await app.http.post(`/integrations/events/${key}`, { event_action: 'trigger', dedup_key: 'cpu-web-3', payload });
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ dedup_key: 'cpu-web-3', alertId: expect.any(String) });
    const again = await app.http.post(`/integrations/events/${key}`, { event_action: 'trigger', dedup_key: 'cpu-web-3', payload });
    expect(again.body.alertId).toBe(first.body.alertId);

    const alertId = first.body.alertId as string;
    const detail = await waitFor('the alert in the read model', async () => {
      const response = await app.http.get(`/teams/${owner.teamId}/alerts/${alertId}`, { token: owner.token });
      return response.status === 200 && response.body.dedupCount === 1 ? response.body : undefined;
    });
    expect(detail).toMatchObject({ flowId, summary: 'CPU above 90% on web-3', severity: 'warning', details: { cpu: 93 } });

    expect((await app.http.post(`/integrations/events/${key}`, { event_action: 'acknowledge', dedup_key: 'cpu-web-3' })).status).toBe(202);
    await waitFor('acknowledged', async () => (await alertStatus(alertId)) === 'acknowledged');
    expect((await app.http.post(`/integrations/events/${key}`, { event_action: 'resolve', dedup_key: 'cpu-web-3' })).status).toBe(202);
    await waitFor('resolved', async () => (await alertStatus(alertId)) === 'resolved');

    const timeline = await app.http.get(`/teams/${owner.teamId}/alerts/${alertId}/timeline`, { token: owner.token });
    expect(timeline.body.at(-1)).toMatchObject({ type: 'AlertResolved', actor: expect.stringMatching(/^integration:[0-9a-f-]{36}$/) });
  });

  it('makes up a dedup key when a trigger has none, and returns it', async () => {
    const response = await app.http.post(`/integrations/events/${key}`, { event_action: 'trigger', payload: { summary: 'disk full' } });
    expect(response.status).toBe(202);
    expect(response.body.dedup_key).toEqual(expect.any(String));
  });

  it('refuses bad events with 4xx: no payload to trigger, no dedup key to resolve, unknown keys and dedup keys', async () => {
    expect((await app.http.post(`/integrations/events/${key}`, { event_action: 'trigger' })).status).toBe(400);
    expect((await app.http.post(`/integrations/events/${key}`, { event_action: 'resolve' })).status).toBe(400);
    expect((await app.http.post(`/integrations/events/${key}`, { event_action: 'snooze', dedup_key: 'x' })).status).toBe(400);
    expect((await app.http.post(`/integrations/events/${key}`, { event_action: 'resolve', dedup_key: 'never-seen' })).status).toBe(404);
    const unknownKey = await app.http.post('/integrations/events/aok_not-a-real-key', { event_action: 'trigger', payload: { summary: 'x' } });
    expect(unknownKey.status).toBe(404);
    expect(unknownKey.headers.get('content-type')).toContain('application/problem+json');
  });

  it('takes an Alertmanager webhook: fingerprints are dedup keys, firing triggers, resolved resolves', async () => {
    const alert = (fingerprint: string, status: 'firing' | 'resolved') => ({
      status,
      labels: { alertname: 'HighLatency', severity: 'critical', instance: fingerprint },
      annotations: { summary: `p99 latency high on ${fingerprint}` },
      startsAt: '2026-11-21T10:00:00Z',
      generatorURL: 'http://prometheus/graph',
      fingerprint,
    });
    const firing = await app.http.post(`/integrations/alertmanager/${key}`, {
      version: '4', status: 'firing', receiver: 'alertops', groupKey: '{}:{alertname="HighLatency"}', externalURL: 'http://alertmanager',
      groupLabels: { alertname: 'HighLatency' }, commonLabels: {}, commonAnnotations: {}, truncatedAlerts: 0,
      alerts: [alert('a1b2', 'firing'), alert('c3d4', 'firing')],
    });
    expect(firing.status).toBe(202);
    expect(firing.body.alerts.map((entry: { action: string }) => entry.action)).toEqual(['triggered', 'triggered']);
    const [first, second] = firing.body.alerts as { alertId: string }[];

    const resolved = await app.http.post(`/integrations/alertmanager/${key}`, {
      version: '4', status: 'resolved', alerts: [alert('a1b2', 'resolved'), alert('never-fired', 'resolved')],
    });
    expect(resolved.body.alerts.map((entry: { action: string }) => entry.action)).toEqual(['resolved', 'ignored']);
    await waitFor('the first resolved', async () => (await alertStatus(first!.alertId)) === 'resolved');
    expect(await alertStatus(second!.alertId)).toBe('triggered');

    const wrongVersion = await app.http.post(`/integrations/alertmanager/${key}`, { version: '3', status: 'firing', alerts: [alert('x', 'firing')] });
    expect(wrongVersion.status).toBe(400);
  });
});
