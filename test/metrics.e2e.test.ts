import { readFileSync } from 'node:fs';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpWithTeam, type TeamOwner } from './support/accounts.js';
import { startTestApp, type TestApp } from './support/app.js';
import { waitFor } from './support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

const METRICS_TOKEN = 'metrics-token-for-the-scraper-0123456789';

/** Prometheus text exposition: one sample per series, keyed `name{label="value",...}` as printed. */
function samples(text: string): Map<string, number> {
  const parsed = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^(\S+?(?:\{.*\})?) (\S+)$/.exec(line);
    if (match) parsed.set(match[1]!, Number(match[2]));
  }
  return parsed;
}

/** The sum over the series of `name` whose labels include every one given. */
function total(series: Map<string, number>, name: string, labels: Record<string, string> = {}): number | undefined {
  let sum: number | undefined;
  for (const [key, value] of series) {
    const [, metric, labelText = ''] = /^([^{]+)(?:\{(.*)\})?$/.exec(key) ?? [];
    if (metric !== name) continue;
    if (!Object.entries(labels).every(([label, wanted]) => labelText.includes(`${label}="${wanted}"`))) continue;
    sum = (sum ?? 0) + value;
  }
  return sum;
}

describe('/metrics after a small run', () => {
  let app: TestApp;
  let receiver: WebhookReceiver;
  let owner: TeamOwner;

  const scrape = async () => {
    const response = await app.http.get('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(response.status).toBe(200);
    return samples(response.body as string);
  };
  const flowTo = async (path: string, delaySeconds: number) =>
    (
      await app.http.post(
        `/teams/${owner.teamId}/flows`,
        { name: path, nodes: [{ name: path, delaySeconds, target: { type: 'webhook', url: `${receiver.url}/${path}` }, retry: { maxAttempts: 2, backoffSeconds: 0.2 } }] },
        { token: owner.token },
      )
    ).body.id as string;
  const trigger = (flowId: string, summary: string) => app.http.post(`/teams/${owner.teamId}/alerts`, { flowId, summary }, { token: owner.token });

  beforeAll(async () => {
    receiver = await startWebhookReceiver((request) => (request.path === '/failing' ? { status: 503 } : { status: 200 }));
    app = await startTestApp({
      METRICS_TOKEN,
      QUOTA_OPEN_ALERTS: '2',
      SWEEPER_GRACE_SECONDS: '1',
      SWEEPER_INTERVAL_SECONDS: '0.2',
    });
    owner = await signUpWithTeam(app.http, 'Measured');
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.stop();
  });

  it('refuses a scrape without the METRICS_TOKEN bearer token', async () => {
    const missing = await app.http.get('/metrics');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    const wrong = await app.http.get('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}x` } });
    expect(wrong.status).toBe(401);
    expect(JSON.stringify(wrong.body)).not.toContain(METRICS_TOKEN);
    const basic = await app.http.get('/metrics', { headers: { authorization: `Basic ${Buffer.from(`x:${METRICS_TOKEN}`).toString('base64')}` } });
    expect(basic.status).toBe(401);
  });

  it('shows queue depth, subscription lag, pages by outcome, escalation lag per step, sweeper re-drives, quota rejections and HTTP requests by route', async () => {
    const before = await scrape();
    for (const outcome of ['delivered', 'failed', 'abandoned', 'unknown']) {
      expect(total(before, 'alertops_pages_total', { channel: 'webhook', outcome }), outcome).toBe(0);
    }
    expect(total(before, 'alertops_sweeper_redrives_total', { kind: 'step' })).toBe(0);
    expect(total(before, 'alertops_quota_rejections_total', { quota: 'open_alerts' })).toBe(0);
    for (const subscription of ['read-models', 'escalation-relay']) {
      expect(total(before, 'alertops_subscription_lag_events', { subscription }), subscription).toBeGreaterThanOrEqual(0);
      expect(total(before, 'alertops_subscription_lag_seconds', { subscription }), subscription).toBeGreaterThanOrEqual(0);
    }
    for (const queue of ['timers.due', 'deliveries', 'delay.q0', 'delay.q19']) {
      expect(total(before, 'alertops_broker_queue_messages', { queue }), queue).toBe(0);
    }

    // A page that fails, is retried, fails again and is abandoned.
    expect((await trigger(await flowTo('failing', 0), 'failing target')).status).toBe(201);

    // A page whose timer is lost in the cascade: the queue shows it, then the sweeper fires the step once overdue.
    const lostFlow = await flowTo('delivered', 4);
    expect((await trigger(lostFlow, 'lost timer')).status).toBe(201);
    // Four seconds less the arrival margin: three in the cascade, in levels 1 (2 s) and then 0 (1 s).
    await waitFor('the timer in the cascade', async () => total(await scrape(), 'alertops_broker_queue_messages', { queue: 'delay.q1' })! >= 1);
    const connection = await amqp.connect(app.config.amqpUrl);
    try {
      const channel = await connection.createChannel();
      await channel.purgeQueue(`${app.config.amqpPrefix}.delay.q1`);
      await channel.close();
    } finally {
      await connection.close();
    }

    const refused = await trigger(lostFlow, 'one too many');
    expect(refused.status).toBe(429);

    const after = await waitFor(
      'the pages and the re-driven step',
      async () => {
        const series = await scrape();
        const done =
          total(series, 'alertops_pages_total', { channel: 'webhook', outcome: 'delivered' }) === 1 &&
          total(series, 'alertops_pages_total', { channel: 'webhook', outcome: 'abandoned' }) === 1;
        return done && series;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(total(after, 'alertops_pages_total', { channel: 'webhook', outcome: 'failed' })).toBe(1);
    expect(total(after, 'alertops_pages_total', { channel: 'webhook', outcome: 'unknown' })).toBe(0);
    expect(total(after, 'alertops_sweeper_redrives_total', { kind: 'step' })).toBe(1);
    expect(total(after, 'alertops_escalation_lag_seconds_count', { step: '0' })).toBe(2);
    // The re-driven step fired at least the grace period late.
    expect(total(after, 'alertops_escalation_lag_seconds_bucket', { step: '0', le: '0.5' })).toBe(1);
    expect(total(after, 'alertops_quota_rejections_total', { quota: 'open_alerts' })).toBe(1);
    expect(total(after, 'alertops_http_request_duration_seconds_count', { route: '/teams/:teamId/alerts', status: '201' })).toBe(2);
    expect(total(after, 'alertops_http_request_duration_seconds_count', { route: '/teams/:teamId/alerts', status: '429' })).toBe(1);
    expect(total(after, 'alertops_http_request_duration_seconds_count', { route: '/metrics', status: '401' })).toBeGreaterThanOrEqual(1);
    expect(total(after, 'alertops_escalation_timers_total', { outcome: 'fired' })).toBe(1);

    // No series is labelled with an id.
    const text = (await app.http.get('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).body as string;
    expect(text).not.toContain(owner.teamId);
    expect(text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
  });

  it('the Grafana dashboard reads only metrics /metrics shows', async () => {
    const dashboard = readFileSync(new URL('../ops/grafana/alertops.json', import.meta.url), 'utf8');
    const used = new Set([...dashboard.matchAll(/\b(alertops_[a-z_]+)/g)].map((match) => match[1]!));
    expect(used.size).toBeGreaterThanOrEqual(8);
    const shown = new Set([...(await scrape()).keys()].map((key) => key.replace(/\{.*$/, '')));
    expect([...used].filter((name) => !shown.has(name))).toEqual([]);
  });
});
