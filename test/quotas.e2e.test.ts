import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpWithTeam, type TeamOwner } from './support/accounts.js';
import { waitFor } from './support/wait.js';
import { startTestApp, type TestApp } from './support/app.js';

describe('per-team trigger quotas', () => {
  let app: TestApp;
  const flowOf = async (owner: TeamOwner) =>
    (
      await app.http.post(
        `/teams/${owner.teamId}/flows`,
        { name: 'quota', nodes: [{ name: 'later', delaySeconds: 3600, target: { type: 'email', email: 'oncall@example.com' } }] },
        { token: owner.token },
      )
    ).body.id as string;
  const trigger = (owner: TeamOwner, flowId: string, summary: string) =>
    app.http.post(`/teams/${owner.teamId}/alerts`, { flowId, summary }, { token: owner.token, headers: { Prefer: 'respond-async' } });

  beforeAll(async () => {
    app = await startTestApp({ QUOTA_TRIGGERS_PER_MINUTE: '5', QUOTA_OPEN_ALERTS: '8' });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("refuses a team's triggers beyond its rate with 429 and Retry-After, and leaves other teams alone", async () => {
    const noisy = await signUpWithTeam(app.http, 'Noisy');
    const quiet = await signUpWithTeam(app.http, 'Quiet');
    const [noisyFlow, quietFlow] = [await flowOf(noisy), await flowOf(quiet)];
    // The quota counts per calendar minute: a burst that straddles two minutes is counted in both.
    await waitFor('a minute with 10 s left for the burst', () => Date.now() % 60_000 < 50_000, { timeoutMs: 15_000, intervalMs: 100 });
    const answers = await Promise.all(Array.from({ length: 9 }, (_, index) => trigger(noisy, noisyFlow, `storm ${index}`)));
    expect(answers.filter((answer) => answer.status === 202)).toHaveLength(5);
    const refused = answers.filter((answer) => answer.status === 429);
    expect(refused).toHaveLength(4);
    for (const answer of refused) {
      expect(answer.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(answer.body).toMatchObject({ status: 429, code: 'quota_exceeded', quota: 'trigger_rate' });
      const retryAfter = Number(answer.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    expect((await trigger(quiet, quietFlow, 'unrelated')).status).toBe(202);
  });

  it('counts every firing alert of an Alertmanager request, refusing the request as a whole', async () => {
    const owner = await signUpWithTeam(app.http, 'Prometheus');
    const flowId = await flowOf(owner);
    const key = (await app.http.post(`/teams/${owner.teamId}/flows/${flowId}/integration-keys`, undefined, { token: owner.token })).body.key as string;
    const alerts = Array.from({ length: 6 }, (_, index) => ({ status: 'firing', labels: { alertname: `a${index}` }, fingerprint: `f${index}` }));
    const response = await app.http.post(`/integrations/alertmanager/${key}`, { version: '4', status: 'firing', alerts });
    expect(response.status).toBe(429);
    const listed = await app.http.get(`/teams/${owner.teamId}/alerts`, { token: owner.token });
    expect(listed.body).toEqual([]);
  });
});

describe('per-team open alert quota', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ QUOTA_OPEN_ALERTS: '3' });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('refuses a trigger while the team has its maximum of open alerts, and admits it again once one is resolved', async () => {
    const owner = await signUpWithTeam(app.http, 'Busy');
    const flowId = (
      await app.http.post(
        `/teams/${owner.teamId}/flows`,
        { name: 'open', nodes: [{ name: 'later', delaySeconds: 3600, target: { type: 'email', email: 'oncall@example.com' } }] },
        { token: owner.token },
      )
    ).body.id as string;
    const trigger = (summary: string) => app.http.post(`/teams/${owner.teamId}/alerts`, { flowId, summary }, { token: owner.token });
    const opened: string[] = [];
    for (let index = 0; index < 3; index++) {
      const answer = await trigger(`open ${index}`);
      expect(answer.status).toBe(201);
      opened.push(answer.body.id);
    }
    const refused = await trigger('one too many');
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: 'quota_exceeded', quota: 'open_alerts' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);

    expect((await app.http.post(`/teams/${owner.teamId}/alerts/${opened[0]}/resolve`, undefined, { token: owner.token })).status).toBe(200);
    expect((await trigger('room again')).status).toBe(201);
  });
});
