import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { NotificationAttemptPlan } from '../../commands/alerts.js';
import {
  alwaysOk,
  failFirst,
  hangFirst,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../../../test/support/webhook-receiver.js';
import { nonPublicAddressKind } from './network-guard.js';
import { createWebhookChannel, WEBHOOK_USER_AGENT, type WebhookChannelOptions } from './webhook.js';

const teamSecret = 'team-webhook-secret-for-tests';

function planFor(url: string, change: Partial<NotificationAttemptPlan> = {}): NotificationAttemptPlan {
  const alertId = randomUUID();
  return {
    alertId,
    teamId: randomUUID(),
    deliveryId: randomUUID(),
    attempt: 1,
    loop: 0,
    step: 1,
    target: { type: 'webhook', url },
    alert: { id: alertId, summary: 'db-1 disk full', details: { mount: '/var', usedPercent: 97 }, severity: 'critical', status: 'triggered' },
    ...change,
  };
}

function channel(change: Partial<WebhookChannelOptions> = {}) {
  return createWebhookChannel({ timeoutMs: 2000, allowPrivate: true, webhookSecretOf: async () => teamSecret, ...change });
}

function verifySignature(header: string | string[] | undefined, rawBody: Buffer, secret: string): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`);
  const received = Buffer.from(String(header));
  return received.length === expected.length && timingSafeEqual(received, expected);
}

describe('webhook channel', () => {
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await startWebhookReceiver();
  });
  beforeEach(() => {
    receiver.requests.length = 0;
    receiver.respondWith(alwaysOk);
  });
  afterAll(async () => {
    await receiver?.stop();
  });

  it('POSTs the alert as JSON with delivery, attempt and a signature the receiver can verify', async () => {
    const plan = planFor(`${receiver.url}/hooks/pager?source=alertops`, { attempt: 2 });

    const outcome = await channel().send(plan);

    expect(outcome).toEqual({ delivered: true, detail: 'HTTP 200' });
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/hooks/pager?source=alertops');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['user-agent']).toBe(WEBHOOK_USER_AGENT);
    expect(request!.headers['x-alertops-delivery']).toBe(plan.deliveryId);
    expect(request!.headers['x-alertops-attempt']).toBe('2');
    expect(verifySignature(request!.headers['x-alertops-signature'], request!.rawBody, teamSecret)).toBe(true);
    expect(verifySignature(request!.headers['x-alertops-signature'], request!.rawBody, 'another team secret')).toBe(false);
    expect(request!.json).toEqual({
      deliveryId: plan.deliveryId,
      alert: { id: plan.alertId, summary: 'db-1 disk full', details: { mount: '/var', usedPercent: 97 }, severity: 'critical', status: 'triggered' },
      step: 1,
      attempt: 2,
      teamId: plan.teamId,
    });
  });

  it('keeps the delivery id across retries while the attempt number changes', async () => {
    const plan = planFor(receiver.url);
    await channel().send(plan);
    await channel().send({ ...plan, attempt: 2 });

    expect(receiver.requests.map((request) => request.headers['x-alertops-delivery'])).toEqual([plan.deliveryId, plan.deliveryId]);
    expect(receiver.requests.map((request) => request.headers['x-alertops-attempt'])).toEqual(['1', '2']);
  });

  it('signs with the secret of the team the alert belongs to', async () => {
    const plan = planFor(receiver.url);
    const asked: string[] = [];
    await channel({ webhookSecretOf: async (teamId) => (asked.push(teamId), `secret-of-${teamId}`) }).send(plan);

    expect(asked).toEqual([plan.teamId]);
    expect(verifySignature(receiver.requests[0]!.headers['x-alertops-signature'], receiver.requests[0]!.rawBody, `secret-of-${plan.teamId}`)).toBe(true);
  });

  it('a 500 answer is a failed attempt that may be retried', async () => {
    receiver.respondWith(failFirst(1, 500));

    const outcome = await channel().send(planFor(receiver.url));

    expect(outcome).toEqual({ delivered: false, error: 'HTTP 500: planned failure 1 of 1', permanent: false });
  });

  it('a receiver that does not answer in time is a failed attempt', async () => {
    receiver.respondWith(hangFirst(1));
    const started = Date.now();

    const outcome = await channel({ timeoutMs: 300 }).send(planFor(receiver.url));

    expect(outcome).toEqual({ delivered: false, error: 'timed out after 300 ms', permanent: false });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(receiver.requests).toHaveLength(1);
  });

  it('a refused connection is a failed attempt naming the target', async () => {
    const closedPort = await unusedPort();

    const outcome = await channel().send(planFor(`http://127.0.0.1:${closedPort}/hook`));

    expect(outcome).toEqual({ delivered: false, error: `connection refused by 127.0.0.1:${closedPort}`, permanent: false });
  });

  it('does not follow redirects', async () => {
    receiver.respondWith((_, index) => (index === 0 ? { status: 302, headers: { location: `${receiver.url}/elsewhere` } } : { status: 200 }));

    const outcome = await channel().send(planFor(`${receiver.url}/hook`));

    expect(outcome).toEqual({ delivered: false, error: `HTTP 302: redirect to ${receiver.url}/elsewhere not followed`, permanent: false });
    expect(receiver.requests.map((request) => request.path)).toEqual(['/hook']);
  });

  it('refuses a loopback target for good when private networks are not allowed, without contacting it', async () => {
    const outcome = await channel({ allowPrivate: false }).send(planFor(`${receiver.url}/hook`));

    expect(outcome).toMatchObject({ delivered: false, permanent: true });
    expect(outcome.delivered === false && outcome.error).toBe(
      'webhook target refused: 127.0.0.1 resolves to loopback address 127.0.0.1 (WEBHOOK_ALLOW_PRIVATE is off)',
    );
    expect(receiver.requests).toHaveLength(0);
  });

  it('refuses a host name that resolves to a private address', async () => {
    const outcome = await channel({ allowPrivate: false }).send(planFor(`http://localhost:${receiver.port}/hook`));

    expect(outcome).toMatchObject({ delivered: false, permanent: true });
    expect(outcome.delivered === false && outcome.error).toMatch(/^webhook target refused: localhost resolves to loopback address/);
    expect(receiver.requests).toHaveLength(0);
  });

  it('refuses the IPv4-mapped IPv6 spelling of a loopback address', async () => {
    const outcome = await channel({ allowPrivate: false }).send(planFor(`http://[::ffff:127.0.0.1]:${receiver.port}/hook`));

    expect(outcome).toMatchObject({ delivered: false, permanent: true });
    expect(receiver.requests).toHaveLength(0);
  });

  it('refuses a name whose addresses include a private one, even next to a public one', async () => {
    const resolve = async () => [
      { address: '93.184.215.14', family: 4 as const },
      { address: '10.1.2.3', family: 4 as const },
    ];

    const outcome = await channel({ allowPrivate: false, resolve }).send(planFor('https://hooks.example.test/hook'));

    expect(outcome).toEqual({
      delivered: false,
      error: 'webhook target refused: hooks.example.test resolves to private address 10.1.2.3 (WEBHOOK_ALLOW_PRIVATE is off)',
      permanent: true,
    });
  });

  it('delivers to loopback when private networks are allowed', async () => {
    const outcome = await channel({ allowPrivate: true }).send(planFor(`http://localhost:${receiver.port}/hook`));

    expect(outcome).toEqual({ delivered: true, detail: 'HTTP 200' });
    expect(receiver.requests).toHaveLength(1);
  });

  it('connects to the address it checked rather than resolving the name again', async () => {
    const resolved: string[] = [];
    const resolve = async (hostname: string) => (resolved.push(hostname), [{ address: '127.0.0.1', family: 4 as const }]);

    const outcome = await channel({ resolve }).send(planFor(`http://hooks.example.test:${receiver.port}/pinned`));

    expect(outcome).toEqual({ delivered: true, detail: 'HTTP 200' });
    expect(resolved).toEqual(['hooks.example.test']);
    expect(receiver.requests[0]!.headers.host).toBe(`hooks.example.test:${receiver.port}`);
  });

  it('a name that does not resolve is a failed attempt that may be retried', async () => {
    const outcome = await channel().send(planFor('http://no-such-host.invalid/hook'));

    expect(outcome).toMatchObject({ delivered: false, permanent: false });
    expect(outcome.delivered === false && outcome.error).toMatch(/^cannot resolve no-such-host\.invalid: /);
  });

  it('a team without a webhook secret yet is a failed attempt, and nothing is sent unsigned', async () => {
    const outcome = await channel({ webhookSecretOf: async () => null }).send(planFor(receiver.url));

    expect(outcome).toMatchObject({ delivered: false, permanent: false });
    expect(receiver.requests).toHaveLength(0);
  });
});

describe('non-public address classification', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['10.20.30.40', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['0.0.0.0', '"this network"'],
    ['::', 'unspecified'],
    ['fd12:3456::1', 'unique-local'],
    ['fc00::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:a00:1', 'private'],
    ['::ffff:169.254.169.254', 'link-local (cloud metadata)'],
    ['::ffff:7f00:1', 'loopback'],
  ])('%s is %s', (address, kind) => {
    expect(nonPublicAddressKind(address)).toBe(kind);
  });

  it.each(['8.8.8.8', '172.32.0.1', '100.128.0.1', '93.184.215.14', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    '%s is public',
    (address) => {
      expect(nonPublicAddressKind(address)).toBeNull();
    },
  );
});

async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}
