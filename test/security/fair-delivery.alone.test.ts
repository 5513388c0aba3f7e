import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpWithTeam, type TeamOwner } from '../support/accounts.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { waitFor } from '../support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const B_ALERTS = 50;
const A_ALERTS = 200;
const B_PER_SECOND = 25;

/**
 * Team A's flow pages a webhook that never answers (each attempt holds a sender for the whole timeout) while team B
 * pages a healthy one: B's pages must be as timely as when A is quiet.
 */
describe("one team's hanging targets do not delay another team's pages", () => {
  let app: TestApp;
  let hanging: WebhookReceiver;
  let healthy: WebhookReceiver;
  let teamA: TeamOwner;
  let teamB: TeamOwner;
  let flowA: string;
  let flowB: string;

  const createFlow = async (owner: TeamOwner, url: string, delaySeconds: number) =>
    (
      await app.http.post(
        `/teams/${owner.teamId}/flows`,
        { name: 'pages', nodes: [{ name: 'hook', delaySeconds, target: { type: 'webhook', url }, retry: { maxAttempts: 3, backoffSeconds: 1 } }] },
        { token: owner.token },
      )
    ).body.id as string;
  const triggerOne = async (owner: TeamOwner, flowId: string, summary: string) => {
    const answer = await app.http.post(`/teams/${owner.teamId}/alerts`, { flowId, summary }, { token: owner.token, headers: { Prefer: 'respond-async' } });
    expect(answer.status).toBe(202);
    return answer.body.id as string;
  };
  /** A burst: `count` triggers, 25 at a time. */
  const triggerBurst = async (owner: TeamOwner, flowId: string, count: number) => {
    const ids: string[] = [];
    for (let sent = 0; sent < count; sent += 25) {
      ids.push(...(await Promise.all(Array.from({ length: Math.min(25, count - sent) }, (_, index) => triggerOne(owner, flowId, `alert ${sent + index}`)))));
    }
    return ids;
  };
  /**
   * Open loop: one trigger every 1000/perSecond ms whatever the answers, so each page's lag is the pipeline's latency
   * rather than its place in a burst of the team's own pages.
   */
  const triggerAtRate = async (owner: TeamOwner, flowId: string, count: number, perSecond: number) => {
    const started = Date.now();
    const answers: Promise<string>[] = [];
    for (let index = 0; index < count; index++) {
      const wait = started + (index * 1000) / perSecond - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      answers.push(triggerOne(owner, flowId, `alert ${index}`));
    }
    return Promise.all(answers);
  };
  /** Arrival at B's receiver minus the step's due time, per alert, in ms. */
  const lagsOf = async (alertIds: string[]) => {
    const arrivals = await waitFor(`${alertIds.length} pages of team B`, () => {
      const first = new Map<string, number>();
      for (const request of healthy.requests) {
        const alertId = (request.json as { alert?: { id?: string } }).alert?.id;
        if (alertId && alertIds.includes(alertId) && !first.has(alertId)) first.set(alertId, request.receivedAt.getTime());
      }
      return first.size === alertIds.length && first;
    }, { timeoutMs: 60_000 });
    const { rows } = await app.database.pool.query<{ alert_id: string; due_at: string }>(
      `select data->>'alertId' as alert_id, data->>'dueAt' as due_at from events
        where event_type = 'EscalationStepFired' and data->>'alertId' = any($1)`,
      [alertIds],
    );
    return rows.map((row) => arrivals.get(row.alert_id)! - Date.parse(row.due_at)).sort((a, b) => a - b);
  };
  const p99 = (sorted: number[]) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!;

  beforeAll(async () => {
    hanging = await startWebhookReceiver(() => ({ hang: true }));
    healthy = await startWebhookReceiver();
    app = await startTestApp();
    teamA = await signUpWithTeam(app.http, 'Hanging targets');
    teamB = await signUpWithTeam(app.http, 'Healthy targets');
    flowA = await createFlow(teamA, `${hanging.url}/never-answers`, 0);
    flowB = await createFlow(teamB, `${healthy.url}/pages`, 2);
  });
  afterAll(async () => {
    await app?.stop();
    await hanging?.stop();
    await healthy?.stop();
  });

  it("team B's page lag p99 stays within 200 ms of the same run without team A", async () => {
    const alone = await lagsOf(await triggerAtRate(teamB, flowB, B_ALERTS, B_PER_SECOND));

    await triggerBurst(teamA, flowA, A_ALERTS);
    await waitFor('team A to be holding its share of senders', () => hanging.requests.length >= 20, { timeoutMs: 20_000 });
    const besideA = await lagsOf(await triggerAtRate(teamB, flowB, B_ALERTS, B_PER_SECOND));

    console.log(`team B lag p99: alone ${p99(alone)} ms, beside a hanging team A ${p99(besideA)} ms (A's requests so far: ${hanging.requests.length})`);
    expect(p99(besideA) - p99(alone)).toBeLessThanOrEqual(200);
    expect(Math.min(...besideA)).toBeGreaterThanOrEqual(0);
  }, 120_000);
});
