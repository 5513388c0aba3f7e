import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpWithTeam, type TeamOwner } from './support/accounts.js';
import { startTestApp, type TestApp } from './support/app.js';
import { waitFor } from './support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

const DELAY_SECONDS = 1.5;

describe('escalation timing, with nothing else running', () => {
  let app: TestApp;
  let receiver: WebhookReceiver;
  let owner: TeamOwner;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    app = await startTestApp();
    owner = await signUpWithTeam(app.http, 'Timing');
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.stop();
  });

  it('pages a node with delay d between d and d + 0.25 s after the trigger, three alerts in a row', async () => {
    const flow = await app.http.post(
      `/teams/${owner.teamId}/flows`,
      { name: 'timing', nodes: [{ name: 'page', delaySeconds: DELAY_SECONDS, target: { type: 'webhook', url: `${receiver.url}/timing` } }] },
      { token: owner.token },
    );
    expect(flow.status).toBe(201);
    const lags: number[] = [];
    for (let n = 0; n < 3; n++) {
      const alert = await app.http.post(`/teams/${owner.teamId}/alerts`, { flowId: flow.body.id, summary: `timing ${n}` }, { token: owner.token });
      expect(alert.status).toBe(201);
      const page = await waitFor('the page', () => receiver.requests.find((request) => (request.json as { alert?: { id: string } }).alert?.id === alert.body.id));
      const timeline = await app.http.get(`/teams/${owner.teamId}/alerts/${alert.body.id}/timeline`, { token: owner.token });
      const triggeredAt = Date.parse(timeline.body.find((entry: { type: string }) => entry.type === 'AlertTriggered').data.triggeredAt);
      lags.push(page.receivedAt.getTime() - (triggeredAt + DELAY_SECONDS * 1000));
    }
    console.log(`timing: webhooks received ${lags.join(', ')} ms after their due times`);
    for (const lag of lags) {
      expect(lag).toBeGreaterThanOrEqual(0);
      expect(lag).toBeLessThanOrEqual(250);
    }
  });
});
