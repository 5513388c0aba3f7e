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
  it("takes the version 1 payload of Grafana's webhook contact point, as Grafana documents it", async () => {
    const grafanaAlert = (fingerprint: string, status: 'firing' | 'resolved', zone: string) => ({
      status,
      labels: { alertname: 'High memory usage', team: 'blue', zone },
      annotations: {
        description: 'The system has high memory usage',
        runbook_url: 'https://myrunbook.com/runbook/1234',
        summary: `This alert was triggered for zone ${zone}`,
      },
      startsAt: '2021-10-12T09:51:03.157076+02:00',
      endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : '2021-10-12T10:01:03.157076+02:00',
      generatorURL: 'https://play.grafana.org/alerting/1afz29v7z/edit',
      fingerprint,
      silenceURL: 'https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3Dus-1',
      dashboardURL: '',
      panelURL: '',
      values: { B: 44.23943737541908, C: 1 },
    });
    const notification = (status: 'firing' | 'resolved', alerts: unknown[]) => ({
      receiver: 'My Super Webhook',
      status,
      orgId: 1,
      alerts,
      groupLabels: {},
      commonLabels: { team: 'blue' },
      commonAnnotations: {},
      externalURL: 'https://play.grafana.org/',
      version: '1',
      groupKey: '{}:{}',
      truncatedAlerts: 0,
      title: `[${status.toUpperCase()}:${alerts.length}]  (blue)`,
      state: status === 'firing' ? 'alerting' : 'ok',
      message: '**Firing**',
    });
    const firing = await app.http.post(
      `/integrations/alertmanager/${key}`,
      notification('firing', [grafanaAlert('c6eadffa33fcdf37', 'firing', 'us-1'), grafanaAlert('bc97ff14869b13e3', 'firing', 'eu-1')]),
    );
    expect(firing.status, JSON.stringify(firing.body)).toBe(202);
    expect(firing.body.alerts.map((entry: { action: string }) => entry.action)).toEqual(['triggered', 'triggered']);
    const alertId = firing.body.alerts[0].alertId as string;
    const detail = await waitFor('the Grafana alert', async () => {
      const response = await app.http.get(`/teams/${owner.teamId}/alerts/${alertId}`, { token: owner.token });
      return response.status === 200 ? response.body : undefined;
    });
    expect(detail).toMatchObject({ summary: 'This alert was triggered for zone us-1', dedupKey: 'c6eadffa33fcdf37' });

    const resolved = await app.http.post(`/integrations/alertmanager/${key}`, notification('resolved', [grafanaAlert('c6eadffa33fcdf37', 'resolved', 'us-1')]));
    expect(resolved.body.alerts).toEqual([{ fingerprint: 'c6eadffa33fcdf37', alertId, action: 'resolved' }]);
    await waitFor('the Grafana alert resolved', async () => (await alertStatus(alertId)) === 'resolved');
  });

  it('refuses more than 1,000 alerts in one request with 413 and the reason, triggering none of them', async () => {
    const alerts = Array.from({ length: 1001 }, (_, index) => ({ status: 'firing', labels: { alertname: 'Flood' }, fingerprint: `flood-${index}` }));
    const response = await app.http.post(`/integrations/alertmanager/${key}`, { version: '4', status: 'firing', alerts });
    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body).toMatchObject({ status: 413, code: 'too_many_alerts', detail: expect.stringContaining('at most 1000 alerts') });
    const open = await app.http.get(`/teams/${owner.teamId}/alerts?status=triggered&limit=200`, { token: owner.token });
    expect(open.body.some((alert: { summary: string }) => alert.summary === 'Flood')).toBe(false);
  });
});
