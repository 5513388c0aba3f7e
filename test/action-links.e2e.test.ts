import { randomUUID } from 'node:crypto';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionLinkKey, signActionToken } from '../src/infra/action-link-tokens.js';
import { addMember, signUpWithTeam, type TeamOwner } from './support/accounts.js';
import { startTestApp, type TestApp } from './support/app.js';
import { type SmtpSink, startSmtpSink } from './support/smtp-sink.js';
import { waitFor } from './support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
const ACTION_LINK = /(http:\/\/\S+\/a\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/;

interface Page {
  status: number;
  contentType: string;
  location: string | null;
  html: string;
  headers: Headers;
}

/** A request as a browser form would make it, redirects not followed. */
async function open(url: string, method: 'GET' | 'POST' = 'GET'): Promise<Page> {
  const response = await fetch(url, { method, redirect: 'manual', ...(method === 'POST' ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' } : {}) });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    location: response.headers.get('location'),
    html: await response.text(),
    headers: response.headers,
  };
}

function tampered(link: string): string {
  const at = link.lastIndexOf('/a/') + 10;
  return link.slice(0, at) + (link[at] === 'A' ? 'B' : 'A') + link.slice(at + 1);
}

describe('acknowledging from the page', () => {
  let app: TestApp;
  let smtp: SmtpSink;
  let receiver: WebhookReceiver;
  let browser: Browser;
  let owner: TeamOwner;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    receiver = await startWebhookReceiver();
    app = await startTestApp({ SMTP_URL: smtp.url });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    owner = await signUpWithTeam(app.http, 'Storefront');
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await receiver?.stop();
    await smtp?.stop();
  });

  async function trigger(nodes: unknown[]): Promise<string> {
    const flow = await app.http.post(`/teams/${owner.teamId}/flows`, { name: `flow ${randomUUID()}`, nodes }, { token: owner.token });
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    const alert = await app.http.post(`/teams/${owner.teamId}/alerts`, { flowId: flow.body.id, summary: 'Checkout <b>is</b> down' }, { token: owner.token });
    expect(alert.status, JSON.stringify(alert.body)).toBe(201);
    return alert.body.id;
  }

  const alertOf = async (alertId: string) => (await app.http.get(`/teams/${owner.teamId}/alerts/${alertId}`, { token: owner.token })).body;
  const timelineOf = async (alertId: string): Promise<{ type: string; actor: string; data: any }[]> =>
    (await app.http.get(`/teams/${owner.teamId}/alerts/${alertId}/timeline`, { token: owner.token })).body;
  const linkFor = (claims: { alertId: string; userId?: string | null; expiresAt?: Date; teamId?: string }) =>
    `${app.url}/a/${signActionToken(actionLinkKey(app.config.jwtSecret), {
      deliveryId: randomUUID(),
      teamId: owner.teamId,
      userId: null,
      expiresAt: new Date(Date.now() + 3_600_000),
      ...claims,
    })}`;
  const quietNode = { name: 'later', delaySeconds: 3600, target: { type: 'email', email: 'later@example.com' } };

  it('the link of a real e-mail opens in Chromium, Acknowledge stops the escalation, and the action names the delivery', async () => {
    const alertId = await trigger([
      { name: 'mail the on-call address', delaySeconds: 0, target: { type: 'email', email: 'oncall@example.com' } },
      { name: 'then the webhook', delaySeconds: 6, target: { type: 'webhook', url: `${receiver.url}/second-step` } },
    ]);
    const mail = await waitFor('the page e-mail', () => smtp.messages.find((message) => message.to.includes('oncall@example.com') && message.text.includes(alertId)));
    const deliveryId = /^<(.+)@alertops>$/.exec(mail.messageId ?? '')![1]!;
    const links = mail.text.match(new RegExp(ACTION_LINK, 'g')) ?? [];
    expect(links).toHaveLength(1);
    const link = links[0]!;

    const page = await browser.newPage();
    const blocked: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') blocked.push(message.text());
    });
    try {
      await page.goto(link);
      expect(await page.locator('h1').textContent()).toBe('Checkout <b>is</b> down');
      expect(await page.locator('#status').textContent()).toBe('triggered');
      await page.locator('#acknowledge').click();
      await page.locator('#status', { hasText: 'acknowledged' }).waitFor({ timeout: 10_000 });
      expect(page.url()).toBe(link);
      expect(await page.locator('#acknowledge').count()).toBe(0);
      expect(await page.locator('#resolve').count()).toBe(1);
      expect(blocked, 'nothing on the page is refused by its own policy').toEqual([]);
    } finally {
      await page.close();
    }

    const alert = await alertOf(alertId);
    expect(alert.status).toBe('acknowledged');
    expect(alert.acknowledgedBy).toBe(`link:${deliveryId}`);

    // The second step was due 6 s after the first: wait until its timer has had its chance, then see it fired nothing.
    const secondStepDue = Date.parse((await timelineOf(alertId)).find((entry) => entry.type === 'EscalationStepScheduled' && entry.data.step === 1)!.data.dueAt);
    await waitFor(
      'the second step to be overdue with nothing fired',
      async () => Date.now() > secondStepDue + 2000 && (await timelineOf(alertId)).every((entry) => !(entry.type === 'EscalationStepFired' && entry.data.step === 1)),
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    expect((await alertOf(alertId)).notifications).toHaveLength(1);
    expect(receiver.requests.filter((request) => request.path === '/second-step')).toEqual([]);
  });

  it('describes the action page and its actions in the OpenAPI document as HTML, errors included', async () => {
    const paths = (await app.http.get('/openapi.json')).body.paths as Record<string, Record<string, { responses: Record<string, { content?: object }> }>>;
    expect(Object.keys(paths['/a/{token}']!)).toEqual(['get']);
    expect(Object.keys(paths['/a/{token}/acknowledge']!)).toEqual(['post']);
    expect(Object.keys(paths['/a/{token}/resolve']!)).toEqual(['post']);
    expect(Object.keys(paths['/a/{token}']!.get!.responses['200']!.content!)).toEqual(['text/html']);
    expect(Object.keys(paths['/a/{token}/resolve']!.post!.responses.default!.content!)).toEqual(['text/html']);
  });

  it('a GET never acts, however often the link is opened', async () => {
    const alertId = await trigger([quietNode]);
    const link = linkFor({ alertId });
    for (let opened = 0; opened < 3; opened++) {
      const page = await open(link);
      expect(page.status).toBe(200);
      expect(page.contentType).toMatch(/^text\/html/);
      expect(page.html).toContain('Checkout &lt;b&gt;is&lt;/b&gt; down');
      expect(page.headers.get('cache-control')).toBe('no-store');
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
      expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; form-action 'self'/);
    }
    expect((await alertOf(alertId)).status).toBe('triggered');
  });

  it('a second use is a no-op that shows the current status', async () => {
    const alertId = await trigger([quietNode]);
    const link = linkFor({ alertId });
    for (let used = 0; used < 2; used++) {
      const answer = await open(`${link}/resolve`, 'POST');
      expect(answer.status).toBe(303);
      expect(new URL(answer.location!, `${link}/resolve`).href).toBe(link);
    }
    const page = await open(link);
    expect(page.html).toContain('<span class="status" id="status">resolved</span>');
    expect(page.html).not.toContain('<form');
    expect((await timelineOf(alertId)).filter((entry) => entry.type === 'AlertResolved')).toHaveLength(1);
    expect((await open(`${link}/acknowledge`, 'POST')).status).toBe(303);
    expect((await alertOf(alertId)).status).toBe('resolved');
  });

  it('a tampered token, or one for another alert, shows an error page and changes nothing', async () => {
    const alertId = await trigger([quietNode]);
    const link = linkFor({ alertId });
    const refused = [tampered(link), linkFor({ alertId: randomUUID() }), linkFor({ alertId, teamId: randomUUID() }), `${app.url}/a/not-a-token`];
    for (const bad of refused) {
      for (const [url, method] of [[bad, 'GET'], [`${bad}/acknowledge`, 'POST'], [`${bad}/resolve`, 'POST']] as const) {
        const page = await open(url, method);
        expect(page.status, `${method} ${url}`).toBe(404);
        expect(page.contentType).toMatch(/^text\/html/);
        expect(page.html).toContain('Nothing was changed.');
        expect(page.headers.get('cache-control')).toBe('no-store');
      }
    }
    expect((await alertOf(alertId)).status).toBe('triggered');
    expect((await timelineOf(alertId)).map((entry) => entry.type)).not.toContain('AlertAcknowledged');
  });

  it("a member's link acts as them, and stops working once they leave the team", async () => {
    const member = await addMember(app.http, owner, 'member');
    const acknowledged = await trigger([quietNode]);
    expect((await open(`${linkFor({ alertId: acknowledged, userId: member.userId })}/acknowledge`, 'POST')).status).toBe(303);
    expect((await alertOf(acknowledged)).acknowledgedBy).toBe(`user:${member.userId}`);

    const alertId = await trigger([quietNode]);
    const link = linkFor({ alertId, userId: member.userId });
    expect((await app.http.delete(`/teams/${owner.teamId}/members/${member.userId}`, { token: owner.token })).status).toBeLessThan(300);
    await waitFor('the removal to reach the read model', async () => (await open(link)).status === 403);
    const page = await open(`${link}/acknowledge`, 'POST');
    expect(page.status).toBe(403);
    expect(page.contentType).toMatch(/^text\/html/);
    expect((await alertOf(alertId)).status).toBe('triggered');
  });
});

describe('an expired action link', () => {
  let app: TestApp;
  let smtp: SmtpSink;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    app = await startTestApp({ SMTP_URL: smtp.url, ACTION_LINK_TTL_HOURS: '0.0003' });
  });
  afterAll(async () => {
    await app?.stop();
    await smtp?.stop();
  });

  it('shows an error page (410) and changes nothing', async () => {
    const owner = await signUpWithTeam(app.http, 'Expiring');
    const flow = await app.http.post(
      `/teams/${owner.teamId}/flows`,
      { name: 'mail at once', nodes: [{ name: 'mail', delaySeconds: 0, target: { type: 'email', email: 'brief@example.com' } }] },
      { token: owner.token },
    );
    const alert = await app.http.post(`/teams/${owner.teamId}/alerts`, { flowId: flow.body.id, summary: 'Short-lived link' }, { token: owner.token });
    const mail = await waitFor('the page e-mail', () => smtp.messages.find((message) => message.text.includes(alert.body.id)));
    const link = ACTION_LINK.exec(mail.text)![1]!;

    const expired = await waitFor('the link to expire', async () => {
      const page = await open(link);
      return page.status === 410 && page;
    });
    expect(expired.contentType).toMatch(/^text\/html/);
    expect(expired.html).toContain('This link has expired');
    const acting = await open(`${link}/acknowledge`, 'POST');
    expect(acting.status).toBe(410);
    expect(acting.contentType).toMatch(/^text\/html/);
    expect((await app.http.get(`/teams/${owner.teamId}/alerts/${alert.body.id}`, { token: owner.token })).body.status).toBe('triggered');
  });
});
