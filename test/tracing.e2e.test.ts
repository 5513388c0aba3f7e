import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { signUp } from './support/accounts.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.js';
import { waitFor } from './support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

/** A new account's team, a one-step flow paging `url` after `delaySeconds`, and one alert triggered on it. */
async function triggerWebhookAlert(app: TestApp, url: string, delaySeconds: number) {
  const owner = await signUp(app.http);
  const team = await app.http.post('/teams', { name: 'Traced' }, { token: owner.token });
  const teamId = team.body.id as string;
  const flow = await app.http.post(
    `/teams/${teamId}/flows`,
    { name: 'traced', nodes: [{ name: 'hook', delaySeconds, target: { type: 'webhook', url } }] },
    { token: owner.token },
  );
  const trigger = await app.http.post(`/teams/${teamId}/alerts`, { flowId: flow.body.id, summary: 'disk full' }, { token: owner.token });
  expect(trigger.status).toBe(201);
  return { teamId, alertId: trigger.body.id as string };
}

/** For the describe block it is called in: a local OTLP collector, a webhook receiver and the service exporting to it. */
function tracedService(env: Record<string, string>) {
  const service = {} as { app: TestApp; collector: OtlpReceiver; receiver: WebhookReceiver };
  beforeAll(async () => {
    service.collector = await startOtlpReceiver();
    service.receiver = await startWebhookReceiver();
    service.app = await startTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: service.collector.url, OTEL_BSP_SCHEDULE_DELAY: '200', ...env });
  });
  afterAll(async () => {
    await service.app?.stop();
    await service.receiver?.stop();
    await service.collector?.stop();
  });
  return service;
}

describe('one trace follows an alert from the trigger to the webhook', () => {
  const service = tracedService({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'alertops-under-test' });

  it('spans the trigger request, the append, the relay publish, the delay cascade, the fire, the attempt and the send, whose traceparent the webhook carries', async () => {
    const { app, collector, receiver } = service;
    // Two seconds: the timer waits a second in the cascade's first level and is dead-lettered out of it.
    const { teamId, alertId } = await triggerWebhookAlert(app, `${receiver.url}/traced`, 2);

    const page = await waitFor('the webhook', () => receiver.requests.find((request) => request.path === '/traced'));
    const traceparent = String(page.headers.traceparent);
    const [, traceId, sendSpanId] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(traceparent) ?? [];
    expect(traceId, traceparent).toBeDefined();

    const inTrace = () => collector.spans.filter((span) => span.traceId === traceId);
    const named = (name: string) => inTrace().find((span) => span.name === name);
    const prefix = app.config.amqpPrefix;
    const expected = [
      'POST /teams/:teamId/alerts',
      'append alert',
      `${prefix}.delay publish`,
      `${prefix}.timers.due process`,
      'fire escalation step',
      `${prefix}.deliveries publish`,
      `${prefix}.deliveries process`,
      'send webhook',
    ];
    await waitFor(`the spans ${expected.join(', ')} in trace ${traceId}`, () => expected.every((name) => named(name)));

    const request = named('POST /teams/:teamId/alerts')!;
    expect(request.parentSpanId).toBeUndefined();
    expect(request.attributes).toMatchObject({ 'http.route': '/teams/:teamId/alerts', 'http.response.status_code': 201, 'alertops.team.id': teamId });
    expect(request.serviceName).toBe('alertops-under-test');

    const fire = named('fire escalation step')!;
    expect(fire.attributes).toMatchObject({ 'alertops.alert.id': alertId, 'alertops.step': 0 });
    const send = inTrace().find((span) => span.spanId === sendSpanId)!;
    expect(send.name).toBe('send webhook');
    expect(send.attributes).toMatchObject({
      'alertops.alert.id': alertId,
      'alertops.team.id': teamId,
      'alertops.delivery.id': page.headers['webhook-id'],
      'alertops.step': 0,
      'alertops.attempt': 1,
    });

    // Each hop is the child of the one before: the chain from the send goes back to the request.
    const byId = new Map(inTrace().map((span) => [span.spanId, span]));
    const chain: string[] = [];
    for (let span: ReceivedSpan | undefined = send; span; span = span.parentSpanId ? byId.get(span.parentSpanId) : undefined) chain.push(span.name);
    expect(chain.reverse()).toEqual([
      'POST /teams/:teamId/alerts',
      'append alert',
      `${prefix}.delay publish`,
      `${prefix}.timers.due process`,
      'fire escalation step',
      'append alert',
      `${prefix}.deliveries publish`,
      `${prefix}.deliveries process`,
      'send webhook',
    ]);
  });

  it('exports no token, password or secret', async () => {
    const { app, collector, receiver } = service;
    const owner = await signUp(app.http);
    const team = await app.http.post('/teams', { name: 'Secretive' }, { token: owner.token });
    const flow = await app.http.post(
      `/teams/${team.body.id}/flows`,
      { name: 'keys', nodes: [{ name: 'hook', delaySeconds: 3600, target: { type: 'webhook', url: `${receiver.url}/keys` } }] },
      { token: owner.token },
    );
    const key = (await app.http.post(`/teams/${team.body.id}/flows/${flow.body.id}/integration-keys`, undefined, { token: owner.token })).body.key as string;
    const ingested = await app.http.post(`/integrations/events/${key}`, { event_action: 'trigger', payload: { summary: 'from a monitor' } });
    expect(ingested.status).toBe(202);
    await waitFor('the integration request span', () =>
      collector.spans.find((span) => span.name === 'POST /integrations/events/:key' && span.attributes['http.response.status_code'] === 202),
    );
    const { webhookSecret } = (await app.http.get(`/teams/${team.body.id}`, { token: owner.token })).body as { webhookSecret: string };
    const exported = collector.rawExports.join('\n');
    for (const secret of [owner.token, owner.refreshToken, owner.password, key, webhookSecret]) {
      expect(secret.length).toBeGreaterThan(8);
      expect(exported).not.toContain(secret);
    }
  });
});

describe("traces in OpenTelemetry's default protocol, OTLP/HTTP protobuf", () => {
  const service = tracedService({});

  it('exports protobuf when no protocol is set, carrying the trace the webhook names', async () => {
    const { app, collector, receiver } = service;
    await triggerWebhookAlert(app, `${receiver.url}/protobuf`, 0);

    const page = await waitFor('the webhook', () => receiver.requests.find((request) => request.path === '/protobuf'));
    const [, traceId] = /^00-([0-9a-f]{32})-[0-9a-f]{16}-01$/.exec(String(page.headers.traceparent)) ?? [];
    expect(traceId).toBeDefined();
    // Protobuf carries a trace id as its 16 raw bytes and a span name as its UTF-8 text.
    const traceIdBytes = Buffer.from(traceId!, 'hex');
    await waitFor('the send span of that trace in a protobuf export', () =>
      collector.protobufExports.some((bytes) => bytes.includes(traceIdBytes) && bytes.includes(Buffer.from('send webhook'))),
    );
    expect(collector.rawExports).toEqual([]);
  });
});
