import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpWithTeam, type TeamOwner } from '../support/accounts.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { waitFor } from '../support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

/*
 * The channel refuses non-public addresses in src/workers/channels/webhook.test.ts; this proves the whole path: a
 * flow edited over HTTP is refused at once, and a flow that was allowed when it was edited (loopback permitted
 * then, or a name that resolved elsewhere) is refused again when it is sent, the notifier giving up at once.
 */
describe('non-public webhook targets', () => {
  let app: TestApp;
  let receiver: WebhookReceiver;
  let owner: TeamOwner;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    // Development and test defaults: loopback allowed, every other non-public network refused.
    app = await startTestApp();
    owner = await signUpWithTeam(app.http, 'Guarded');
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.stop();
  });

  const loopbackTargets = () => [
    `http://127.0.0.1:${receiver.port}/plain`,
    `http://localhost:${receiver.port}/by-name`,
    `http://[::ffff:127.0.0.1]:${receiver.port}/ipv4-mapped`,
    `http://2130706433:${receiver.port}/decimal`,
  ];
  const flowOf = (urls: string[]) => ({
    name: 'internal hooks',
    nodes: urls.map((url, index) => ({
      name: `hook ${index}`,
      delaySeconds: index === 0 ? 0 : 60,
      target: { type: 'webhook', url },
      retry: { maxAttempts: 5, backoffSeconds: 0.1 },
    })),
  });

  it('refuses private, link-local, cloud-metadata and unique-local targets when a flow is edited, even where loopback is allowed', async () => {
    const refused = [
      'http://10.0.0.8/hook',
      'http://192.168.1.20:8080/hook',
      'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
      'http://[fd00:ec2::254]/latest/meta-data/',
      'http://metadata.google.internal/computeMetadata/v1/',
      'http://[fd12:3456::1]/hook',
      'http://100.64.0.9/hook',
      `http://0.0.0.0:${receiver.port}/any`,
    ];
    for (const url of refused) {
      const created = await app.http.post(`/teams/${owner.teamId}/flows`, flowOf([url]), { token: owner.token });
      expect(created.status, `${url}: ${JSON.stringify(created.body)}`).toBe(422);
      expect(created.body).toMatchObject({ code: 'webhook_target_refused', detail: expect.stringMatching(/^webhook target refused: /) });
    }

    const flow = await app.http.post(`/teams/${owner.teamId}/flows`, flowOf(loopbackTargets()), { token: owner.token });
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    const [nodeId] = (await app.http.get(`/teams/${owner.teamId}/flows/${flow.body.id}`, { token: owner.token })).body.nodes.map(
      (node: { id: string }) => node.id,
    );
    const added = await app.http.post(
      `/teams/${owner.teamId}/flows/${flow.body.id}/nodes`,
      { name: 'metadata', delaySeconds: 1, target: { type: 'webhook', url: 'http://169.254.169.254/' } },
      { token: owner.token },
    );
    expect(added.status).toBe(422);
    const updated = await app.http.patch(
      `/teams/${owner.teamId}/flows/${flow.body.id}/nodes/${nodeId}`,
      { target: { type: 'webhook', url: 'http://172.16.5.4/hook' } },
      { token: owner.token },
    );
    expect(updated.status).toBe(422);
    expect(receiver.requests).toEqual([]);
  });

  it('refuses a loopback target when a flow is edited once loopback is not allowed', async () => {
    await app.restart({ WEBHOOK_ALLOW_LOOPBACK: 'false' });
    try {
      for (const url of loopbackTargets()) {
        const created = await app.http.post(`/teams/${owner.teamId}/flows`, flowOf([url]), { token: owner.token });
        expect(created.status, url).toBe(422);
        expect(created.body.detail).toMatch(/\(loopback; WEBHOOK_ALLOW_LOOPBACK is off\)$/);
      }
    } finally {
      await app.restart({});
    }
  });

  it('never sends to a loopback receiver once loopback is refused, however it is spelled, even in a flow saved before; each notification is abandoned at once with the reason', async () => {
    const targets = loopbackTargets();
    const flow = await app.http.post(`/teams/${owner.teamId}/flows`, flowOf(targets), { token: owner.token });
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);

    await app.restart({ WEBHOOK_ALLOW_LOOPBACK: 'false' });
    const alert = await app.http.post(`/teams/${owner.teamId}/alerts`, { flowId: flow.body.id, summary: 'exfiltrate me' }, { token: owner.token });
    expect(alert.status).toBe(201);

    const detail = await waitFor(
      'every step to be abandoned',
      async () => {
        const response = await app.http.get(`/teams/${owner.teamId}/alerts/${alert.body.id}`, { token: owner.token });
        const notifications = response.body.notifications as { status: string }[];
        return notifications.length === targets.length && notifications.every((notification) => notification.status === 'abandoned')
          ? response.body
          : undefined;
      },
      // Nobody was reached at each step, so the next one is due at once instead of after its 60 s delay.
      { timeoutMs: 20_000 },
    );

    for (const notification of detail.notifications as { step: number; attempts: number; lastError: string; target: { url: string } }[]) {
      expect(notification.target.url).toBe(targets[notification.step]);
      // Permanent: retrying a refused address could never succeed.
      expect(notification.attempts).toBe(1);
      expect(notification.lastError).toMatch(/^webhook target refused: .+ a non-public address \(loopback; WEBHOOK_ALLOW_LOOPBACK is off\)$/);
    }
    expect(detail.exhausted).toBe(true);

    const timeline = await app.http.get(`/teams/${owner.teamId}/alerts/${alert.body.id}/timeline`, { token: owner.token });
    const failures = (timeline.body as { type: string; data: { retryAt: string | null } }[]).filter((event) => event.type === 'NotificationFailed');
    expect(failures).toHaveLength(targets.length);
    expect(failures.every((event) => event.data.retryAt === null)).toBe(true);
    expect(receiver.requests).toEqual([]);
  });
});
