import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, signUp, signUpWithTeam, type SignedUpUser, type TeamOwner } from './support/accounts.js';
import { startTestApp, type TestApp } from './support/app.js';
import { type SmtpSink, startSmtpSink } from './support/smtp-sink.js';
import { waitFor } from './support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

describe('contact methods and notification rules', () => {
  let smtp: SmtpSink;
  let app: TestApp;
  let ada: SignedUpUser;
  let bob: SignedUpUser;
  const auth = (user: SignedUpUser) => ({ token: user.token });

  beforeAll(async () => {
    smtp = await startSmtpSink();
    app = await startTestApp({ SMTP_URL: smtp.url });
    ada = await signUp(app.http);
    bob = await signUp(app.http);
  });
  afterAll(async () => {
    await app?.stop();
    await smtp?.stop();
  });

  async function codeMailedTo(address: string): Promise<string> {
    const mail = await waitFor('the verification e-mail', () => smtp.messages.find((message) => message.to.includes(address)));
    return /verification code is (\d{6})/.exec(mail.text)![1]!;
  }

  it("the account's own address is verified at once; another address by the code e-mailed to it", async () => {
    const own = await app.http.post('/me/contact-methods', { type: 'email', address: ada.email.toUpperCase() }, auth(ada));
    expect(own.status, JSON.stringify(own.body)).toBe(201);
    expect(own.body.verified).toBe(true);

    const pager = `pager-${randomBytes(4).toString('hex')}@example.com`;
    const added = await app.http.post('/me/contact-methods', { type: 'email', address: pager }, auth(ada));
    expect(added.status).toBe(201);
    expect(added.body.verified).toBe(false);
    const code = await codeMailedTo(pager);
    const wrong = code === '000000' ? '000001' : '000000';

    const refused = await app.http.post(`/me/contact-methods/${added.body.id}/verify`, { code: wrong }, auth(ada));
    expect([refused.status, refused.body.code]).toEqual([422, 'wrong_verification_code']);
    const unverifiedRule = await app.http.put('/me/notification-rules', [{ contactMethodId: added.body.id, delayMinutes: 0 }], auth(ada));
    expect([unverifiedRule.status, unverifiedRule.body.code]).toEqual([422, 'contact_method_unverified']);

    const verified = await app.http.post(`/me/contact-methods/${added.body.id}/verify`, { code }, auth(ada));
    expect(verified.status, JSON.stringify(verified.body)).toBe(204);
    const listed = await app.http.get('/me/contact-methods', auth(ada));
    expect(listed.body).toEqual([
      { id: own.body.id, type: 'email', address: ada.email, verified: true },
      { id: added.body.id, type: 'email', address: pager, verified: true },
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(code);
  });

  it('wrong codes are limited', async () => {
    const pager = `locked-${randomBytes(4).toString('hex')}@example.com`;
    const added = await app.http.post('/me/contact-methods', { type: 'email', address: pager }, auth(bob));
    const code = await codeMailedTo(pager);
    const wrong = code === '000000' ? '000001' : '000000';
    for (let attempt = 0; attempt < 5; attempt++) {
      expect((await app.http.post(`/me/contact-methods/${added.body.id}/verify`, { code: wrong }, auth(bob))).status).toBe(422);
    }
    const locked = await app.http.post(`/me/contact-methods/${added.body.id}/verify`, { code }, auth(bob));
    expect([locked.status, locked.body.code]).toEqual([409, 'verification_locked']);
  });

  it('rules page verified methods of the caller only; removing a method drops its rules', async () => {
    const hook = await app.http.post('/me/contact-methods', { type: 'webhook', url: 'http://127.0.0.1:9/hook', format: 'slack' }, auth(bob));
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    const own = await app.http.post('/me/contact-methods', { type: 'email', address: bob.email }, auth(bob));
    const rules = [{ contactMethodId: own.body.id, delayMinutes: 0 }, { contactMethodId: hook.body.id, delayMinutes: 5 }];
    expect((await app.http.put('/me/notification-rules', rules, auth(bob))).status).toBe(204);
    expect((await app.http.get('/me/notification-rules', auth(bob))).body).toEqual(rules);

    const adasMethods = await app.http.get('/me/contact-methods', auth(ada));
    const adas = adasMethods.body[0].id as string;
    expect((await app.http.put('/me/notification-rules', [{ contactMethodId: adas, delayMinutes: 0 }], auth(bob))).status).toBe(404);
    expect((await app.http.delete(`/me/contact-methods/${adas}`, auth(bob))).status).toBe(404);
    expect((await app.http.post(`/me/contact-methods/${adas}/verify`, { code: '123456' }, auth(bob))).status).toBe(404);
    expect((await app.http.get('/me/contact-methods', auth(ada))).body).toEqual(adasMethods.body);

    expect((await app.http.delete(`/me/contact-methods/${hook.body.id}`, auth(bob))).status).toBe(204);
    expect((await app.http.get('/me/notification-rules', auth(bob))).body).toEqual([rules[0]]);
  });

  it('bad input is 400', async () => {
    const bad = [
      ['/me/contact-methods', { type: 'email', address: 'not an address' }],
      ['/me/contact-methods', { type: 'webhook', url: 'ftp://example.com/x', format: 'json' }],
      ['/me/contact-methods', { type: 'webhook', url: 'https://example.com/x', format: 'teams' }],
      ['/me/contact-methods', { type: 'sms', number: '+15550100' }],
      [`/me/contact-methods/${randomUUID()}/verify`, { code: '12345' }],
      ['/me/contact-methods/not-a-uuid/verify', { code: '123456' }],
    ] as const;
    for (const [path, body] of bad) expect((await app.http.post(path, body, auth(bob))).status, `${path} ${JSON.stringify(body)}`).toBe(400);
    const rule = (delayMinutes: unknown) => [{ contactMethodId: randomUUID(), delayMinutes }];
    for (const body of [rule(-1), rule(1441), rule(1.5), Array.from({ length: 11 }, () => rule(0)[0]), { rules: [] }]) {
      expect((await app.http.put('/me/notification-rules', body, auth(bob))).status, JSON.stringify(body)).toBe(400);
    }
    expect((await app.http.post(`/me/contact-methods/${randomUUID()}/verify`, { code: '123456' }, auth(bob))).status).toBe(404);
  });

  it('a webhook to a private or metadata address is refused', async () => {
    const refused = await app.http.post('/me/contact-methods', { type: 'webhook', url: 'http://169.254.169.254/latest', format: 'json' }, auth(bob));
    expect([refused.status, refused.body.code]).toEqual([422, 'webhook_target_refused']);
  });
});

describe('paging a person by their notification rules', () => {
  let smtp: SmtpSink;
  let receiver: WebhookReceiver;
  let app: TestApp;
  let owner: TeamOwner;
  let member: SignedUpUser;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    receiver = await startWebhookReceiver();
    app = await startTestApp({ SMTP_URL: smtp.url });
    owner = await signUpWithTeam(app.http, 'Paged by rules');
    member = await addMember(app.http, owner, 'member');
  });
  afterAll(async () => {
    await app?.stop();
    await smtp?.stop();
    await receiver?.stop();
  });

  async function addMethod(user: SignedUpUser, method: Record<string, unknown>): Promise<string> {
    const added = await app.http.post('/me/contact-methods', method, { token: user.token });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    return added.body.id;
  }

  async function pageUser(userId: string, summary: string): Promise<string> {
    const flow = await app.http.post(
      `/teams/${owner.teamId}/flows`,
      { name: `page ${summary}`, nodes: [{ name: 'the person', delaySeconds: 0, target: { type: 'user', userId } }] },
      { token: owner.token },
    );
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    const alert = await app.http.post(`/teams/${owner.teamId}/alerts`, { flowId: flow.body.id, summary }, { token: owner.token });
    expect(alert.status, JSON.stringify(alert.body)).toBe(201);
    return alert.body.id;
  }

  it('pages each rule as a delivery of its own; acknowledging cancels the rule not yet due', async () => {
    const pager = `pager-${randomBytes(4).toString('hex')}@example.com`;
    const mail = await addMethod(member, { type: 'email', address: pager });
    const code = await waitFor('the verification e-mail', () => smtp.messages.find((message) => message.to.includes(pager)));
    const verified = await app.http.post(`/me/contact-methods/${mail}/verify`, { code: /code is (\d{6})/.exec(code.text)![1] }, { token: member.token });
    expect(verified.status).toBe(204);
    const slack = await addMethod(member, { type: 'webhook', url: `${receiver.url}/slack`, format: 'slack' });
    const personalToken = 'T0KENT0KENT0KENT0KENT0KEN';
    const later = await addMethod(member, { type: 'webhook', url: `${receiver.url}/later/${personalToken}`, format: 'json' });
    const rules = [
      { contactMethodId: mail, delayMinutes: 0 },
      { contactMethodId: slack, delayMinutes: 0 },
      { contactMethodId: later, delayMinutes: 1 },
    ];
    expect((await app.http.put('/me/notification-rules', rules, { token: member.token })).status).toBe(204);

    const alertId = await pageUser(member.userId, 'Checkout is down');
    const page = await waitFor('the page at the verified address', () => smtp.messages.find((message) => message.to.includes(pager) && message.subject.includes('Checkout is down')));
    expect(page.text).toContain(alertId);
    const slackMessage = await waitFor('the Slack message', () => receiver.requests.find((request) => request.path === '/slack'));
    expect(slackMessage.json).toMatchObject({ text: expect.stringContaining('Checkout is down'), blocks: expect.any(Array) });
    const buttons = (slackMessage.json as { blocks: { type: string; elements?: { text: { text: string }; url: string }[] }[] }).blocks
      .filter((block) => block.type === 'actions')
      .flatMap((block) => block.elements ?? []);
    expect(buttons.map((button) => button.text.text)).toEqual(['Acknowledge', 'Resolve']);
    for (const button of buttons) expect(button.url).toMatch(/\/a\/[^/#]+#(acknowledge|resolve)$/);
    expect(smtp.messages.some((message) => message.to.includes(member.email) && message.subject.includes('Checkout is down'))).toBe(false);

    const acknowledged = await app.http.post(`/teams/${owner.teamId}/alerts/${alertId}/acknowledge`, undefined, { token: member.token });
    expect(acknowledged.status).toBe(200);
    // A person's own webhook URL is their credential: the team sees it redacted, even its owner.
    const expected = ['email::delivered', 'webhook:/later/redacted:cancelled', 'webhook:/slack:delivered'];
    const statusesNow = async () => {
      const detail = await app.http.get(`/teams/${owner.teamId}/alerts/${alertId}`, { token: owner.token });
      return (detail.body.notifications as { target: { type: string; url?: string }; status: string }[])
        .map((notification) => `${notification.target.type}:${notification.target.url?.replace(receiver.url, '') ?? ''}:${notification.status}`)
        .sort();
    };
    await waitFor('the sent rules delivered and the delayed one cancelled', async () => JSON.stringify(await statusesNow()) === JSON.stringify(expected));
    expect(receiver.requests.some((request) => request.path.startsWith('/later'))).toBe(false);
    const timeline = await app.http.get(`/teams/${owner.teamId}/alerts/${alertId}/timeline`, { token: owner.token });
    expect(timeline.status).toBe(200);
    expect(JSON.stringify(timeline.body)).not.toContain(personalToken);
  });

  it('a person without rules is paged at their account e-mail at once', async () => {
    const alertId = await pageUser(owner.userId, 'Search is slow');
    const page = await waitFor('the page at the account address', () => smtp.messages.find((message) => message.to.includes(owner.email) && message.subject.includes('Search is slow')));
    expect(page.text).toContain(alertId);
  });
});
