import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { addMember, type SignedUpUser, signUp, signUpWithTeam, type TeamOwner } from '../support/accounts.js';
import type { HttpClient } from '../support/app.js';
import { waitFor } from '../support/wait.js';

/** A team with one of every resource a route can name: what an attacker from another team would aim at. */
export interface Tenant {
  owner: TeamOwner;
  member: SignedUpUser;
  teamId: string;
  flowId: string;
  /** The flow's first node. */
  nodeId: string;
  /** The flow's second node. */
  secondNodeId: string;
  alertId: string;
  dedupKey: string;
  /** A pending invite to an address nobody has registered yet. */
  inviteId: string;
  inviteEmail: string;
  inviteToken: string;
  /** Someone with an account and no team yet, and a pending invite to their address. */
  invitee: SignedUpUser;
  inviteeToken: string;
  keyId: string;
  integrationKey: string;
  /** A schedule with the member on call, and an override of theirs. */
  scheduleId: string;
  overrideId: string;
  /** A contact method of the owner's (their account's address), paged by their one notification rule. */
  contactMethodId: string;
  /** A maintenance window two days ahead, for the primary flow. */
  windowId: string;
  /** A page that reached nobody: the one step of a second flow, abandoned after its one attempt. */
  deliveryId: string;
  /** An API token of the team's, acting as a member. */
  apiTokenId: string;
  apiToken: string;
  /** A lifecycle webhook subscription, made after the alert so that nothing is sent to it while a test runs. */
  subscriptionId: string;
}

/**
 * Builds a tenant through the API. Its escalation steps are an hour and more away and its webhooks point at a
 * name that never resolves, so nothing in it changes by itself while a test runs.
 */
export async function buildTenant(http: HttpClient, name: string, options: { dedupKey?: string } = {}): Promise<Tenant> {
  const owner = await signUpWithTeam(http, name);
  const auth = { token: owner.token };
  const member = await addMember(http, owner, 'member');
  const webhook = (path: string) => ({ type: 'webhook', url: `https://hooks.example.invalid/${path}` });
  const flow = await http.post(
    `/teams/${owner.teamId}/flows`,
    {
      name: `${name} primary`,
      nodes: [
        { name: 'first', delaySeconds: 3600, target: webhook('first') },
        { name: 'second', delaySeconds: 3600, target: webhook('second') },
      ],
    },
    auth,
  );
  expect(flow.status, JSON.stringify(flow.body)).toBe(201);
  const flowDetail = await http.get(`/teams/${owner.teamId}/flows/${flow.body.id}`, auth);
  const [first, second] = flowDetail.body.nodes as { id: string }[];
  const dedupKey = options.dedupKey ?? `${name}-disk-full-${randomBytes(4).toString('hex')}`;
  const alert = await http.post(`/teams/${owner.teamId}/alerts`, { flowId: flow.body.id, summary: `${name} is down`, dedupKey }, auth);
  expect(alert.status, JSON.stringify(alert.body)).toBe(201);
  const inviteEmail = `invitee-${randomBytes(6).toString('hex')}@example.com`;
  const invite = await http.post(`/teams/${owner.teamId}/invites`, { email: inviteEmail, role: 'viewer' }, auth);
  expect(invite.status, JSON.stringify(invite.body)).toBe(201);
  const invitee = await signUp(http);
  const inviteeInvite = await http.post(`/teams/${owner.teamId}/invites`, { email: invitee.email, role: 'viewer' }, auth);
  expect(inviteeInvite.status, JSON.stringify(inviteeInvite.body)).toBe(201);
  const key = await http.post(`/teams/${owner.teamId}/flows/${flow.body.id}/integration-keys`, undefined, auth);
  expect(key.status, JSON.stringify(key.body)).toBe(201);
  const schedule = await http.post(
    `/teams/${owner.teamId}/schedules`,
    {
      name: `${name} on call`,
      timeZone: 'Europe/Berlin',
      rotations: [{ name: 'primary', participants: [member.userId], start: '2026-01-05T09:00:00+01:00', shift: { unit: 'weeks', count: 1 } }],
    },
    auth,
  );
  expect(schedule.status, JSON.stringify(schedule.body)).toBe(201);
  const soon = Date.now() + 86_400_000;
  const override = await http.post(
    `/teams/${owner.teamId}/schedules/${schedule.body.id}/overrides`,
    { userId: member.userId, start: new Date(soon).toISOString(), end: new Date(soon + 3_600_000).toISOString() },
    auth,
  );
  expect(override.status, JSON.stringify(override.body)).toBe(201);
  const contactMethod = await http.post('/me/contact-methods', { type: 'email', address: owner.email }, auth);
  expect(contactMethod.status, JSON.stringify(contactMethod.body)).toBe(201);
  const rules = await http.put('/me/notification-rules', [{ contactMethodId: contactMethod.body.id, delayMinutes: 0 }], auth);
  expect(rules.status, JSON.stringify(rules.body)).toBe(204);
  const inTwoDays = Date.now() + 2 * 86_400_000;
  const window = await http.post(
    `/teams/${owner.teamId}/maintenance-windows`,
    { start: new Date(inTwoDays).toISOString(), end: new Date(inTwoDays + 3_600_000).toISOString(), reason: 'upgrade', flowIds: [flow.body.id] },
    auth,
  );
  expect(window.status, JSON.stringify(window.body)).toBe(201);
  const unreachable = await http.post(
    `/teams/${owner.teamId}/flows`,
    { name: `${name} unreachable`, nodes: [{ name: 'nobody', delaySeconds: 0, target: webhook('undelivered'), retry: { maxAttempts: 1, backoffSeconds: 1 } }] },
    auth,
  );
  expect(unreachable.status, JSON.stringify(unreachable.body)).toBe(201);
  const undeliveredAlert = await http.post(`/teams/${owner.teamId}/alerts`, { flowId: unreachable.body.id, summary: `${name} pages nobody` }, auth);
  expect(undeliveredAlert.status, JSON.stringify(undeliveredAlert.body)).toBe(201);
  const undelivered = await waitFor('the page to nobody abandoned', async () => {
    const listed = await http.get(`/teams/${owner.teamId}/notifications?status=abandoned`, auth);
    return (listed.body as { alertId: string; deliveryId: string }[]).find((entry) => entry.alertId === undeliveredAlert.body.id);
  });
  // Settled: the alert's one step is spent, so nothing in it moves while a test runs.
  await waitFor('the escalation exhausted', async () => (await http.get(`/teams/${owner.teamId}/alerts/${undeliveredAlert.body.id}`, auth)).body.exhausted === true);
  const apiToken = await http.post(`/teams/${owner.teamId}/api-tokens`, { name: `${name} automation`, role: 'member' }, auth);
  expect(apiToken.status, JSON.stringify(apiToken.body)).toBe(201);
  const subscription = await http.post(
    `/teams/${owner.teamId}/subscriptions`,
    { url: 'https://hooks.example.invalid/lifecycle', events: ['alert.acknowledged', 'alert.resolved'] },
    auth,
  );
  expect(subscription.status, JSON.stringify(subscription.body)).toBe(201);
  return {
    owner,
    member,
    teamId: owner.teamId,
    flowId: flow.body.id,
    nodeId: first!.id,
    secondNodeId: second!.id,
    alertId: alert.body.id,
    dedupKey,
    inviteId: invite.body.id,
    inviteEmail,
    inviteToken: invite.body.token,
    invitee,
    inviteeToken: inviteeInvite.body.token,
    keyId: key.body.id,
    integrationKey: key.body.key,
    scheduleId: schedule.body.id,
    overrideId: override.body.id,
    contactMethodId: contactMethod.body.id,
    windowId: window.body.id,
    deliveryId: undelivered.deliveryId,
    apiTokenId: apiToken.body.id,
    apiToken: apiToken.body.token,
    subscriptionId: subscription.body.id,
  };
}
