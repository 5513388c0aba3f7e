import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, type SignedUpUser, signUpWithTeam, type TeamOwner } from './support/accounts.js';
import { startTestApp, type TestApp } from './support/app.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { waitFor } from './support/wait.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('on-call schedules', () => {
  let app: TestApp;
  let smtp: SmtpSink;
  let owner: TeamOwner;
  let alice: SignedUpUser;
  let bob: SignedUpUser;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    app = await startTestApp({ SMTP_URL: smtp.url });
    owner = await signUpWithTeam(app.http, 'Platform');
    alice = await addMember(app.http, owner, 'member');
    bob = await addMember(app.http, owner, 'member');
  });
  afterAll(async () => {
    await app?.stop();
    await smtp?.stop();
  });

  const schedulesPath = () => `/teams/${owner.teamId}/schedules`;
  async function createSchedule(body: Record<string, unknown>): Promise<{ id: string; version: number }> {
    const response = await app.http.post(schedulesPath(), body, { token: owner.token });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    expect(response.headers.get('etag')).toBe(`"${response.body.version}"`);
    return response.body;
  }
  /** A daily rotation whose first hand-off was `daysAgo` days ago at the current hour, Alice first. */
  const dailyRotation = (start: Date, participants = [alice.userId, bob.userId]) => ({
    name: 'primary',
    participants,
    start: start.toISOString(),
    shift: { unit: 'days', count: 1 },
  });

  it('answers who is on call from the rotation, hands off daily, and lists the shifts', async () => {
    const start = new Date(Date.now() - HOUR);
    const { id } = await createSchedule({ name: 'Primary', timeZone: 'Europe/Berlin', rotations: [dailyRotation(start)] });
    const now = await app.http.get(`${schedulesPath()}/${id}/on-call`, { token: owner.token });
    expect(now.status).toBe(200);
    expect(now.body).toMatchObject({ users: [{ userId: alice.userId, name: 'Test User' }], source: 'primary' });
    expect(Date.parse(now.body.until)).toBe(start.getTime() + DAY);
    const tomorrow = await app.http.get(`${schedulesPath()}/${id}/on-call?at=${new Date(start.getTime() + DAY + 60_000).toISOString()}`, { token: owner.token });
    expect(tomorrow.body.users.map((user: { userId: string }) => user.userId)).toEqual([bob.userId]);

    const shifts = await app.http.get(
      `${schedulesPath()}/${id}/shifts?from=${start.toISOString()}&to=${new Date(start.getTime() + 3 * DAY).toISOString()}`,
      { token: owner.token },
    );
    expect(shifts.status).toBe(200);
    expect(shifts.body.map((shift: { users: { userId: string }[] }) => shift.users[0]!.userId)).toEqual([alice.userId, bob.userId, alice.userId]);
    const tooLong = await app.http.get(
      `${schedulesPath()}/${id}/shifts?from=${start.toISOString()}&to=${new Date(start.getTime() + 40 * DAY).toISOString()}`,
      { token: owner.token },
    );
    expect(tooLong.status).toBe(400);
    expect(tooLong.body).toMatchObject({ code: 'shift_range_too_long', errors: [{ path: 'query.to' }] });
  });

  it('an override replaces the rotation for its period; edits honour If-Match and show in the audit log', async () => {
    const { id, version } = await createSchedule({ name: 'Overridden', timeZone: 'UTC', rotations: [dailyRotation(new Date(Date.now() - HOUR))] });
    const override = await app.http.post(
      `${schedulesPath()}/${id}/overrides`,
      { userId: bob.userId, start: new Date(Date.now() - 60_000).toISOString(), end: new Date(Date.now() + HOUR).toISOString() },
      { token: owner.token },
    );
    expect(override.status, JSON.stringify(override.body)).toBe(201);
    const onCall = await app.http.get(`${schedulesPath()}/${id}/on-call`, { token: owner.token });
    expect(onCall.body).toMatchObject({ users: [{ userId: bob.userId }], source: 'override' });

    const stale = await app.http.patch(`${schedulesPath()}/${id}`, { name: 'Renamed' }, { token: owner.token, headers: { 'If-Match': `"${version}"` } });
    expect(stale.status).toBe(412);
    const renamed = await app.http.patch(`${schedulesPath()}/${id}`, { name: 'Renamed' }, { token: owner.token, headers: { 'If-Match': `"${version + 1}"` } });
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);

    const overlapping = await app.http.post(
      `${schedulesPath()}/${id}/overrides`,
      { userId: alice.userId, start: new Date(Date.now() + 60_000).toISOString(), end: new Date(Date.now() + 2 * HOUR).toISOString() },
      { token: owner.token },
    );
    expect(overlapping.status).toBe(400);
    expect(overlapping.body).toMatchObject({ code: 'override_overlaps', errors: [{ path: 'body.start' }] });
    const reversed = await app.http.post(
      `${schedulesPath()}/${id}/overrides`,
      { userId: alice.userId, start: new Date(Date.now() + 2 * HOUR).toISOString(), end: new Date(Date.now() + HOUR).toISOString() },
      { token: owner.token },
    );
    expect(reversed.status).toBe(400);
    const removed = await app.http.delete(`${schedulesPath()}/${id}/overrides/${override.body.id}`, { token: owner.token });
    expect(removed.status).toBe(200);
    const after = await app.http.get(`${schedulesPath()}/${id}/on-call`, { token: owner.token });
    expect(after.body.users.map((user: { userId: string }) => user.userId)).toEqual([alice.userId]);

    const audit = await app.http.get(`/teams/${owner.teamId}/audit`, { token: owner.token });
    const types = audit.body.filter((entry: { stream: string }) => entry.stream === `schedule-${id}`).map((entry: { type: string }) => entry.type);
    expect(types).toEqual(['ScheduleOverrideRemoved', 'ScheduleRenamed', 'ScheduleOverrideAdded', 'ScheduleCreated']);
  });

  it('refuses bad input with 4xx and hides other teams’ schedules', async () => {
    const bad = await app.http.post(schedulesPath(), { name: 'x', timeZone: 'Mars/Olympus' }, { token: owner.token });
    expect(bad.status).toBe(400);
    const stranger = await signUpWithTeam(app.http, 'Elsewhere');
    const outsider = await app.http.post(schedulesPath(), { name: 'x', timeZone: 'UTC', rotations: [dailyRotation(new Date(), [stranger.userId])] }, { token: owner.token });
    expect(outsider.status).toBe(400);
    expect(outsider.body.errors).toEqual([{ path: 'body.rotations.0.participants.0', message: expect.stringContaining('not a member') }]);
    const { id } = await createSchedule({ name: 'Private', timeZone: 'UTC' });
    expect((await app.http.get(`/teams/${stranger.teamId}/schedules/${id}`, { token: stranger.token })).status).toBe(404);
    expect((await app.http.get(`/teams/${owner.teamId}/schedules/${id}`, { token: stranger.token })).status).toBe(404);
    const flowElsewhere = await app.http.post(
      `/teams/${stranger.teamId}/flows`,
      { name: 'steal', nodes: [{ name: 'x', delaySeconds: 1, target: { type: 'schedule', scheduleId: id } }] },
      { token: stranger.token },
    );
    expect(flowElsewhere.status).toBe(422);
  });

  it('a flow step paging a schedule pages whoever is on call when it fires and records them; deleting the schedule is refused', async () => {
    const { id } = await createSchedule({ name: 'Paged', timeZone: 'UTC', rotations: [dailyRotation(new Date(Date.now() - HOUR), [bob.userId])] });
    const flow = await app.http.post(
      `/teams/${owner.teamId}/flows`,
      { name: 'via schedule', nodes: [{ name: 'on call', delaySeconds: 0.2, target: { type: 'schedule', scheduleId: id } }] },
      { token: owner.token },
    );
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    const alert = await app.http.post(`/teams/${owner.teamId}/alerts`, { flowId: flow.body.id, summary: 'Queue backlog' }, { token: owner.token });
    expect(alert.status).toBe(201);
    const mail = await waitFor('the on-call page', () => smtp.messages.find((message) => message.subject.includes('Queue backlog')));
    expect(mail.to).toEqual([bob.email]);
    const timeline = await app.http.get(`/teams/${owner.teamId}/alerts/${alert.body.id}/timeline`, { token: owner.token });
    const fired = timeline.body.find((entry: { type: string }) => entry.type === 'EscalationStepFired');
    expect(fired.data.onCall).toEqual({ scheduleId: id, userIds: [bob.userId], reason: null });

    const refused = await app.http.delete(`${schedulesPath()}/${id}`, { token: owner.token });
    expect(refused.status).toBe(409);
  });

  it('nobody on call: the step pages nobody, says why, and the next step is due at once', async () => {
    const { id } = await createSchedule({ name: 'Empty', timeZone: 'UTC' });
    const flow = await app.http.post(
      `/teams/${owner.teamId}/flows`,
      {
        name: 'empty schedule first',
        nodes: [
          { name: 'on call', delaySeconds: 0.2, target: { type: 'schedule', scheduleId: id } },
          { name: 'fallback', delaySeconds: 3600, target: { type: 'email', email: 'fallback@example.com' } },
        ],
      },
      { token: owner.token },
    );
    expect(flow.status).toBe(201);
    const alert = await app.http.post(`/teams/${owner.teamId}/alerts`, { flowId: flow.body.id, summary: 'Nobody home' }, { token: owner.token });
    await waitFor('the fallback page', () => smtp.messages.find((message) => message.subject.includes('Nobody home')));
    const timeline = await app.http.get(`/teams/${owner.teamId}/alerts/${alert.body.id}/timeline`, { token: owner.token });
    const fired = timeline.body.filter((entry: { type: string }) => entry.type === 'EscalationStepFired');
    expect(fired[0].data.onCall).toEqual({ scheduleId: id, userIds: [], reason: 'nobody on call' });
    expect(fired).toHaveLength(2);
  });
});
