import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpWithTeam, type TeamOwner } from '../support/accounts.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { waitFor } from '../support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

/*
 * The channel refuses private addresses in src/workers/channels/webhook.test.ts; this proves the whole path: a
 * flow edited over HTTP, an alert escalated by the engine, the notifier giving up at once and saying why.
 */
describe('private-network webhook targets with WEBHOOK_ALLOW_PRIVATE=false', () => {
  let app: TestApp;
  let receiver: WebhookReceiver;
  let owner: TeamOwner;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    app = await startTestApp({ WEBHOOK_ALLOW_PRIVATE: 'false' });
    owner = await signUpWithTeam(app.http, 'Guarded');
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.stop();
  });

  it('never sends a request to a loopback receiver, however it is spelled; each notification is abandoned at once with the reason', async () => {
    const { port } = receiver;
    const targets = [
      `http://127.0.0.1:${port}/plain`,
      `http://localhost:${port}/by-name`,
      `http://[::ffff:127.0.0.1]:${port}/ipv4-mapped`,
      `http://2130706433:${port}/decimal`,
      `http://0.0.0.0:${port}/any`,
    ];
    const flow = await app.http.post(
      `/teams/${owner.teamId}/flows`,
      {
        name: 'internal hooks',
        nodes: targets.map((url, index) => ({
          name: `hook ${index}`,
          delaySeconds: index === 0 ? 0 : 60,
          target: { type: 'webhook', url },
          retry: { maxAttempts: 5, backoffSeconds: 0.1 },
        })),
      },
      { token: owner.token },
    );
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
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
      expect(notification.lastError).toMatch(/^webhook target refused: .+ resolves to (loopback|"this network") address .+ \(WEBHOOK_ALLOW_PRIVATE is off\)$/);
    }
    expect(detail.exhausted).toBe(true);

    const timeline = await app.http.get(`/teams/${owner.teamId}/alerts/${alert.body.id}/timeline`, { token: owner.token });
    const failures = (timeline.body as { type: string; data: { retryAt: string | null } }[]).filter((event) => event.type === 'NotificationFailed');
    expect(failures).toHaveLength(targets.length);
    expect(failures.every((event) => event.data.retryAt === null)).toBe(true);
    expect(receiver.requests).toEqual([]);
  });
});
