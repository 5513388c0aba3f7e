import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { triggerAlert } from '../src/commands/alerts.js';
import { loadFlow } from '../src/commands/flows.js';
import { addMember, signUpWithTeam, type SignedUpUser, type TeamOwner } from './support/accounts.js';
import { startTestApp, type TestApp } from './support/app.js';
import { purgeCascadeOnceItHoldsATimer } from './support/delay-cascade.js';
import { waitFor } from './support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

describe('maintenance windows and undelivered pages end to end', () => {
  let app: TestApp;
  let receiver: WebhookReceiver;
  let owner: TeamOwner;
  let member: SignedUpUser;
  let viewer: SignedUpUser;
  let other: TeamOwner;
  /** Paths answered 500 while listed here. */
  const broken = new Set<string>();

  beforeAll(async () => {
    receiver = await startWebhookReceiver((request) => (broken.has(pathOf(request)) ? { status: 500, body: 'down' } : { status: 200, body: 'ok' }));
    app = await startTestApp({ SWEEPER_GRACE_SECONDS: '1', SWEEPER_INTERVAL_SECONDS: '0.5' });
    owner = await signUpWithTeam(app.http, 'Storage');
    member = await addMember(app.http, owner, 'member');
    viewer = await addMember(app.http, owner, 'viewer');
    other = await signUpWithTeam(app.http, 'Elsewhere');
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.stop();
  });

  const pathOf = (request: { path: string }) => request.path.split('?')[0]!;
  const pagesTo = (name: string) => receiver.requests.filter((request) => pathOf(request) === `/${name}`);
  const windows = (teamId = owner.teamId) => `/teams/${teamId}/maintenance-windows`;
  const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();

  async function createFlow(name: string, as: TeamOwner = owner, retry = { maxAttempts: 3, backoffSeconds: 0.2 }): Promise<string> {
    const response = await app.http.post(
      `/teams/${as.teamId}/flows`,
      { name: `${name} ${Math.random()}`, nodes: [{ name, delaySeconds: 0, target: { type: 'webhook', url: `${receiver.url}/${name}?key=s3cr3t` }, retry }] },
      { token: as.token },
    );
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body.id;
  }

  async function trigger(flowId: string): Promise<string> {
    const response = await app.http.post(`/teams/${owner.teamId}/alerts`, { flowId, summary: 'Disk array rebuilding' }, { token: owner.token });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body.id;
  }

  async function openWindow(body: Record<string, unknown>, token = owner.token) {
    const response = await app.http.post(windows(), { reason: 'array rebuild', ...body }, { token });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body as { id: string; start: string; end: string; flowIds: string[] | null };
  }

  const alertOf = async (alertId: string) => (await app.http.get(`/teams/${owner.teamId}/alerts/${alertId}`, { token: owner.token })).body;
  const eventTypes = async (alertId: string) =>
    ((await app.http.get(`/teams/${owner.teamId}/alerts/${alertId}/timeline`, { token: owner.token })).body as { type: string }[]).map((e) => e.type);

  it('an alert triggered in a window is recorded as suppressed, pages nobody, and escalates once the window is deleted', async () => {
    const flowId = await createFlow('deleted-window');
    const window = await openWindow({ start: inSeconds(-1), end: inSeconds(3600), flowIds: [flowId] });
    const alertId = await trigger(flowId);

    const alert = await alertOf(alertId);
    expect(alert).toMatchObject({ status: 'triggered', suppressed: true, suppression: { windowId: window.id, until: window.end } });
    expect(alert.nextEscalationAt).toBe(window.end);
    const listed = (await app.http.get(`/teams/${owner.teamId}/alerts`, { token: owner.token })).body as { id: string; suppressed: boolean }[];
    expect(listed.find((entry) => entry.id === alertId)?.suppressed).toBe(true);
    expect(await eventTypes(alertId)).toContain('AlertSuppressed');
    expect(pagesTo('deleted-window')).toHaveLength(0);

    const deletedAt = Date.now();
    const deleted = await app.http.delete(`${windows()}/${window.id}`, { token: member.token });
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    const [page] = await waitFor('the page once the window is deleted', () => (pagesTo('deleted-window').length ? pagesTo('deleted-window') : undefined));
    expect(page!.receivedAt.getTime()).toBeGreaterThanOrEqual(deletedAt);
    expect((page!.json as { alert: { id: string } }).alert.id).toBe(alertId);
    await waitFor('the alert shown as no longer suppressed', async () => (await alertOf(alertId)).suppressed === false);
    expect(await eventTypes(alertId)).toEqual(expect.arrayContaining(['SuppressionEnded', 'EscalationStepFired']));
    expect((await app.http.get(windows(), { token: owner.token })).body.map((entry: { id: string }) => entry.id)).not.toContain(window.id);
  });

  it('an alert still open when its window ends escalates then', async () => {
    const flowId = await createFlow('window-ends');
    const window = await openWindow({ start: inSeconds(-1), end: inSeconds(2.5), flowIds: [flowId] });
    const alertId = await trigger(flowId);
    expect((await alertOf(alertId)).suppressed).toBe(true);
    const [page] = await waitFor('the page after the window', () => (pagesTo('window-ends').length ? pagesTo('window-ends') : undefined), { timeoutMs: 15_000 });
    expect(page!.receivedAt.getTime()).toBeGreaterThanOrEqual(Date.parse(window.end));
    expect(await alertOf(alertId)).toMatchObject({ suppressed: false, suppression: null });
  });

  it('a window-end timer lost from the cascade still escalates the alert, through the sweeper', async () => {
    const flowId = await createFlow('lost-timer');
    const window = await openWindow({ start: inSeconds(-1), end: inSeconds(4), flowIds: [flowId] });
    await trigger(flowId);
    await purgeCascadeOnceItHoldsATimer(app);
    const [page] = await waitFor('the sweeper to page', () => (pagesTo('lost-timer').length ? pagesTo('lost-timer') : undefined), { timeoutMs: 15_000 });
    // The sweeper fires a pending step once it is overdue beyond its grace (1 s here).
    expect(page!.receivedAt.getTime()).toBeGreaterThanOrEqual(Date.parse(window.end) + 1000);
  });

  it('an alert recorded as held back by a window deleted meanwhile is woken from the log', async () => {
    const flowId = await createFlow('raced');
    const window = await openWindow({ start: inSeconds(-1), end: inSeconds(3600), flowIds: [flowId] });
    expect((await app.http.delete(`${windows()}/${window.id}`, { token: owner.token })).status).toBe(200);
    // A trigger that read the windows just before the deletion was applied: it records the alert as held back.
    const flow = await loadFlow(app.runtime.services, flowId);
    const { alertId } = await triggerAlert(app.runtime.services, {
      teamId: owner.teamId, flow: flow!, summary: 'raced the deletion', details: null, severity: 'error', dedupKey: null, source: 'api',
      actor: `user:${owner.userId}`, now: new Date(), suppression: { windowId: window.id, until: new Date(Date.parse(window.end)) },
    });
    await waitFor('the page of the alert the deleted window held back', () => pagesTo('raced').length === 1);
    expect(await eventTypes(alertId)).toEqual(expect.arrayContaining(['AlertSuppressed', 'SuppressionEnded', 'EscalationStepFired']));
  });

  it('a window for some flows leaves the others paging, and a whole-team window holds back every flow', async () => {
    const covered = await createFlow('covered');
    const free = await createFlow('free');
    await openWindow({ start: inSeconds(-1), end: inSeconds(3600), flowIds: [covered] });
    const freeAlert = await trigger(free);
    await waitFor('the page of the flow outside the window', () => pagesTo('free').length === 1);
    expect((await alertOf(freeAlert)).suppressed).toBe(false);
    expect((await alertOf(await trigger(covered))).suppressed).toBe(true);

    const team = await openWindow({ start: inSeconds(3600 * 2), end: inSeconds(3600 * 3) });
    expect(team.flowIds).toBeNull();
    const listed = await app.http.get(windows(), { token: viewer.token });
    expect(listed.status).toBe(200);
    expect(listed.body.map((entry: { id: string }) => entry.id)).toContain(team.id);
    const page = await app.http.get(`${windows()}?limit=1`, { token: viewer.token });
    expect(page.body).toHaveLength(1);
    const next = await app.http.get(`${windows()}?limit=1&after=${page.body[0].id}`, { token: viewer.token });
    expect(next.body[0].id).not.toBe(page.body[0].id);
  });

  it('refuses bad windows with the field named, and lets only members and above edit', async () => {
    const flowId = await createFlow('refusals');
    const refused = async (body: Record<string, unknown>, path: string) => {
      const response = await app.http.post(windows(), { reason: 'upgrade', ...body }, { token: owner.token });
      expect(response.status, JSON.stringify(response.body)).toBe(400);
      expect(response.body.errors.map((error: { path: string }) => error.path)).toContain(path);
    };
    await refused({ start: inSeconds(7200), end: inSeconds(3600), flowIds: [flowId] }, 'body.end');
    await refused({ start: inSeconds(60), end: inSeconds(60 + 32 * 86_400), flowIds: [flowId] }, 'body.end');
    await refused({ start: inSeconds(60), end: inSeconds(120), flowIds: [await createFlow('theirs', other)] }, 'body.flowIds.0');
    await refused({ start: inSeconds(60), end: inSeconds(120), reason: 'x'.repeat(501), flowIds: [flowId] }, 'body.reason');
    await refused({ start: 'tomorrow', end: inSeconds(120) }, 'body.start');

    await openWindow({ start: inSeconds(86_400), end: inSeconds(86_400 + 3600), flowIds: [flowId] });
    await refused({ start: inSeconds(86_400 + 1800), end: inSeconds(86_400 + 7200), flowIds: [flowId] }, 'body.start');

    const byViewer = await app.http.post(windows(), { start: inSeconds(60), end: inSeconds(120), reason: 'x' }, { token: viewer.token });
    expect(byViewer.status).toBe(403);
    const byOutsider = await app.http.post(windows(), { start: inSeconds(60), end: inSeconds(120), reason: 'x' }, { token: other.token });
    expect(byOutsider.status).toBe(404);
    const mine = await openWindow({ start: inSeconds(86_400 * 3), end: inSeconds(86_400 * 3 + 60), flowIds: [flowId] }, member.token);
    expect((await app.http.delete(`${windows(other.teamId)}/${mine.id}`, { token: other.token })).status).toBe(404);
    expect((await app.http.delete(`${windows()}/${mine.id}`, { token: viewer.token })).status).toBe(403);
    expect((await app.http.delete(`${windows()}/${mine.id}`, { token: owner.token })).status).toBe(200);
    expect((await app.http.delete(`${windows()}/${mine.id}`, { token: owner.token })).status).toBe(404);

    const audit = (await app.http.get(`/teams/${owner.teamId}/audit`, { token: owner.token })).body as { type: string; stream: string; actor: string }[];
    const windowEvents = audit.filter((entry) => entry.stream === `maintenance-${mine.id}`);
    expect(windowEvents.map((entry) => entry.type)).toEqual(['MaintenanceWindowEnded', 'MaintenanceWindowCreated']);
    expect(windowEvents[1]!.actor).toBe(`user:${member.userId}`);
  });

  it('a page that reached nobody is listed with its reason, and a resend reaches the receiver under the same webhook-id', async () => {
    broken.add('/unreachable');
    const flowId = await createFlow('unreachable', owner, { maxAttempts: 2, backoffSeconds: 0.2 });
    const alertId = await trigger(flowId);
    const undelivered = await waitFor('the page abandoned', async () => {
      const response = await app.http.get(`/teams/${owner.teamId}/notifications?status=abandoned`, { token: viewer.token });
      return (response.body as { alertId: string; deliveryId: string; target: unknown }[]).find((entry) => entry.alertId === alertId);
    });
    expect(undelivered).toMatchObject({ alertId, step: 0, status: 'abandoned', attempts: 2, lastError: 'HTTP 500' });
    expect(undelivered.target).toEqual({ type: 'webhook', url: `${receiver.url}/unreachable?redacted` });
    const asOwner = await app.http.get(`/teams/${owner.teamId}/notifications?status=abandoned`, { token: owner.token });
    expect(JSON.stringify(asOwner.body)).toContain('/unreachable?key=s3cr3t');
    const failedPages = pagesTo('unreachable');
    expect(failedPages).toHaveLength(2);
    const { deliveryId } = undelivered;
    expect(failedPages.every((page) => page.headers['webhook-id'] === deliveryId)).toBe(true);

    expect((await app.http.post(`/teams/${owner.teamId}/notifications/${deliveryId}/resend`, undefined, { token: viewer.token })).status).toBe(403);
    expect((await app.http.post(`/teams/${other.teamId}/notifications/${deliveryId}/resend`, undefined, { token: other.token })).status).toBe(404);
    expect((await app.http.post(`/teams/${owner.teamId}/notifications/${crypto.randomUUID()}/resend`, undefined, { token: member.token })).status).toBe(404);

    broken.delete('/unreachable');
    const resent = await app.http.post(`/teams/${owner.teamId}/notifications/${deliveryId}/resend`, undefined, { token: member.token });
    expect(resent.status, JSON.stringify(resent.body)).toBe(202);
    const page = await waitFor('the resent page', () => pagesTo('unreachable')[2]);
    expect(page.headers['webhook-id']).toBe(deliveryId);
    expect((page.json as { attempt: number }).attempt).toBe(3);
    await waitFor('the delivery shown as delivered', async () =>
      (await alertOf(alertId)).notifications.some((entry: { id: string; status: string }) => entry.id === deliveryId && entry.status === 'delivered'),
    );
    const listed = await app.http.get(`/teams/${owner.teamId}/notifications`, { token: owner.token });
    expect((listed.body as { deliveryId: string }[]).map((entry) => entry.deliveryId)).not.toContain(deliveryId);
    const timeline = (await app.http.get(`/teams/${owner.teamId}/alerts/${alertId}/timeline`, { token: owner.token })).body as { type: string; data: { by?: string } }[];
    expect(timeline.find((event) => event.type === 'NotificationResendRequested')?.data.by).toBe(`user:${member.userId}`);

    const again = await app.http.post(`/teams/${owner.teamId}/notifications/${deliveryId}/resend`, undefined, { token: member.token });
    expect(again.status).toBe(409);
  });

  it('lists undelivered pages a page at a time and refuses a limit over 500', async () => {
    expect((await app.http.get(`/teams/${owner.teamId}/notifications?limit=501`, { token: owner.token })).status).toBe(400);
    expect((await app.http.get(`/teams/${owner.teamId}/notifications?status=lost`, { token: owner.token })).status).toBe(400);
    broken.add('/paged');
    const flowId = await createFlow('paged', owner, { maxAttempts: 1, backoffSeconds: 1 });
    await trigger(flowId);
    await trigger(flowId);
    await waitFor('two abandoned pages', async () => (await app.http.get(`/teams/${owner.teamId}/notifications?status=abandoned`, { token: owner.token })).body.length >= 2);
    const first = await app.http.get(`/teams/${owner.teamId}/notifications?status=abandoned&limit=1`, { token: owner.token });
    expect(first.body).toHaveLength(1);
    const second = await app.http.get(`/teams/${owner.teamId}/notifications?status=abandoned&limit=1&before=${first.body[0].deliveryId}`, { token: owner.token });
    expect(second.body).toHaveLength(1);
    expect(second.body[0].deliveryId).not.toBe(first.body[0].deliveryId);
    expect(Date.parse(second.body[0].at)).toBeLessThanOrEqual(Date.parse(first.body[0].at));
    expect((await app.http.get(`/teams/${other.teamId}/notifications`, { token: other.token })).body).toEqual([]);
  });
});
