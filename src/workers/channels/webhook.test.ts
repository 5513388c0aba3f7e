import { randomBytes, randomUUID } from 'node:crypto';
import { attemptPlan } from '../../../test/support/attempt-plan.js';
import { createServer } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { NotificationAttemptPlan } from '../../domain/alert/notification-attempt.js';
import {
  alwaysOk,
  failFirst,
  hangFirst,
  type ReceivedWebhook,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../../../test/support/webhook-receiver.js';
import { nonPublicAddressKind, PUBLIC_ONLY, type WebhookNetworkPolicy, webhookTargetRefusal } from '../../infra/network-guard.js';
import { createWebhookChannel, WEBHOOK_USER_AGENT, type WebhookChannelOptions } from './webhook.js';

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
const teamSecret = newSecret();
const LOOPBACK_ONLY: WebhookNetworkPolicy = { allowPrivate: false, allowLoopback: true };
const ANY_NETWORK: WebhookNetworkPolicy = { allowPrivate: true, allowLoopback: false };

const planFor = (url: string, change: Partial<NotificationAttemptPlan> = {}) =>
  attemptPlan(
    { type: 'webhook', url },
    { step: 1, alert: { summary: 'db-1 disk full', details: { mount: '/var', usedPercent: 97 }, severity: 'critical' }, ...change },
  );

const actionLinkOf = (plan: NotificationAttemptPlan) => `https://alertops.test/a/token-of-${plan.deliveryId}`;

function channel(change: Partial<WebhookChannelOptions> = {}) {
  return createWebhookChannel({ timeoutMs: 2000, policy: LOOPBACK_ONLY, signingSecretsOf: async () => [teamSecret], actionLinkOf, ...change });
}

/** What a receiver using the Standard Webhooks library makes of the request: the verified payload, or the error. */
function verifiedWith(secret: string, request: ReceivedWebhook): unknown {
  try {
    return new Webhook(secret).verify(request.rawBody.toString('utf8'), request.headers as Record<string, string>);
  } catch (error) {
    return error;
  }
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

  it('POSTs the alert as JSON signed as Standard Webhooks specify, verifiable with the team secret and no other', async () => {
    const plan = planFor(`${receiver.url}/hooks/pager?source=alertops`, { attempt: 2 });
    const before = Math.floor(Date.now() / 1000);

    const outcome = await channel().send(plan);

    expect(outcome).toEqual({ delivered: true, detail: 'HTTP 200' });
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/hooks/pager?source=alertops');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['user-agent']).toBe(WEBHOOK_USER_AGENT);
    expect(request!.headers['webhook-id']).toBe(plan.deliveryId);
    expect(request!.headers['x-alertops-delivery']).toBe(plan.deliveryId);
    expect(request!.headers['x-alertops-attempt']).toBe('2');
    expect(Number(request!.headers['webhook-timestamp'])).toBeGreaterThanOrEqual(before);
    expect(Number(request!.headers['webhook-timestamp'])).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    expect(request!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    const body = {
      deliveryId: plan.deliveryId,
      alert: { id: plan.alertId, summary: 'db-1 disk full', details: { mount: '/var', usedPercent: 97 }, severity: 'critical', status: 'triggered' },
      step: 1,
      attempt: 2,
      teamId: plan.teamId,
      actions: {
        acknowledge: `https://alertops.test/a/token-of-${plan.deliveryId}#acknowledge`,
        resolve: `https://alertops.test/a/token-of-${plan.deliveryId}#resolve`,
      },
    };
    expect(request!.json).toEqual(body);
    expect(verifiedWith(teamSecret, request!)).toEqual(body);
    expect(verifiedWith(newSecret(), request!)).toMatchObject({ name: 'WebhookVerificationError' });
  });

  it('the signature covers the delivery id and the timestamp: a replay with another timestamp or id does not verify', async () => {
    await channel().send(planFor(receiver.url));
    const [request] = receiver.requests;
    const headers = request!.headers;

    const laterTimestamp = { ...request!, headers: { ...headers, 'webhook-timestamp': String(Number(headers['webhook-timestamp']) + 1) } };
    const otherId = { ...request!, headers: { ...headers, 'webhook-id': randomUUID() } };
    expect(verifiedWith(teamSecret, laterTimestamp)).toMatchObject({ name: 'WebhookVerificationError' });
    expect(verifiedWith(teamSecret, otherId)).toMatchObject({ name: 'WebhookVerificationError' });
  });

  it('stamps the send time from its clock; a receiver refuses a delivery older than its tolerance', async () => {
    const sentAt = new Date(Date.now() - 10 * 60_000);
    await channel({ clock: () => sentAt }).send(planFor(receiver.url));

    expect(receiver.requests[0]!.headers['webhook-timestamp']).toBe(String(Math.floor(sentAt.getTime() / 1000)));
    expect(verifiedWith(teamSecret, receiver.requests[0]!)).toMatchObject({ message: 'Message timestamp too old' });
  });

  it('keeps the delivery id across retries while the attempt number changes', async () => {
    const plan = planFor(receiver.url);
    await channel().send(plan);
    await channel().send({ ...plan, attempt: 2 });

    expect(receiver.requests.map((request) => request.headers['webhook-id'])).toEqual([plan.deliveryId, plan.deliveryId]);
    expect(receiver.requests.map((request) => request.headers['x-alertops-delivery'])).toEqual([plan.deliveryId, plan.deliveryId]);
    expect(receiver.requests.map((request) => request.headers['x-alertops-attempt'])).toEqual(['1', '2']);
  });

  it('signs with the secrets of the team the alert belongs to, as of the send', async () => {
    const plan = planFor(receiver.url);
    const sentAt = new Date();
    const asked: [string, Date][] = [];
    const secretOfTeam = newSecret();
    await channel({ clock: () => sentAt, signingSecretsOf: async (teamId, now) => (asked.push([teamId, now]), [secretOfTeam]) }).send(plan);

    expect(asked).toEqual([[plan.teamId, sentAt]]);
    expect(verifiedWith(secretOfTeam, receiver.requests[0]!)).toMatchObject({ deliveryId: plan.deliveryId });
  });

  it('during a rotation it carries one signature per secret, so a receiver holding either the new or the old one verifies', async () => {
    const [current, previous] = [newSecret(), newSecret()];
    await channel({ signingSecretsOf: async () => [current, previous] }).send(planFor(receiver.url));

    const [request] = receiver.requests;
    expect(String(request!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifiedWith(current, request!)).toMatchObject({ step: 1 });
    expect(verifiedWith(previous, request!)).toMatchObject({ step: 1 });
    expect(verifiedWith(newSecret(), request!)).toMatchObject({ name: 'WebhookVerificationError' });
  });

  it('a 500 answer is a failed attempt that may be retried', async () => {
    receiver.respondWith(failFirst(1, 500));

    const outcome = await channel().send(planFor(receiver.url));

    // The status, in our words: never what the target wrote in its body.
    expect(outcome).toEqual({ delivered: false, error: 'HTTP 500', permanent: false });
  });

  it('a receiver that does not answer in time is a failed attempt', async () => {
    receiver.respondWith(hangFirst(1));
    const started = Date.now();

    const outcome = await channel({ timeoutMs: 300 }).send(planFor(receiver.url));

    expect(outcome).toEqual({ delivered: false, error: 'timeout after 300 ms', permanent: false, unanswered: true });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(receiver.requests).toHaveLength(1);
  });

  it('a refused connection is a failed attempt', async () => {
    const closedPort = await unusedPort();

    const outcome = await channel().send(planFor(`http://127.0.0.1:${closedPort}/hook`));

    expect(outcome).toEqual({ delivered: false, error: 'connection refused', permanent: false, unanswered: true });
  });

  it('does not follow redirects, and does not repeat where they pointed', async () => {
    receiver.respondWith((_, index) => (index === 0 ? { status: 302, headers: { location: `${receiver.url}/elsewhere?token=s3cr3t` } } : { status: 200 }));

    const outcome = await channel().send(planFor(`${receiver.url}/hook`));

    expect(outcome).toEqual({ delivered: false, error: 'redirect refused (HTTP 302)', permanent: false });
    expect(receiver.requests.map((request) => request.path)).toEqual(['/hook']);
  });

  it('refuses a loopback target for good when loopback is not allowed, without contacting it', async () => {
    const outcome = await channel({ policy: PUBLIC_ONLY }).send(planFor(`${receiver.url}/hook`));

    expect(outcome).toEqual({
      delivered: false,
      error: 'webhook target refused: 127.0.0.1 is a non-public address (loopback; WEBHOOK_ALLOW_LOOPBACK is off)',
      permanent: true,
    });
    expect(receiver.requests).toHaveLength(0);
  });

  it('refuses a host name that resolves to loopback', async () => {
    const outcome = await channel({ policy: PUBLIC_ONLY }).send(planFor(`http://localhost:${receiver.port}/hook`));

    expect(outcome).toMatchObject({ delivered: false, permanent: true });
    expect(outcome.delivered === false && outcome.error).toMatch(/^webhook target refused: localhost resolves to (127\.0\.0\.1|::1), a non-public address \(loopback;/);
    expect(receiver.requests).toHaveLength(0);
  });

  it('refuses the IPv4-mapped IPv6 spelling of a loopback address', async () => {
    const outcome = await channel({ policy: PUBLIC_ONLY }).send(planFor(`http://[::ffff:127.0.0.1]:${receiver.port}/hook`));

    expect(outcome).toMatchObject({ delivered: false, permanent: true });
    expect(receiver.requests).toHaveLength(0);
  });

  it('with loopback allowed (the development default) still refuses private, link-local and unique-local addresses', async () => {
    const resolvingTo = (address: string, family: 4 | 6 = 4) => async () => [{ address, family }];
    const refusedAs = async (url: string, resolve?: () => Promise<{ address: string; family: 4 | 6 }[]>) => {
      const outcome = await channel({ policy: LOOPBACK_ONLY, ...(resolve ? { resolve } : {}) }).send(planFor(url));
      expect(outcome).toMatchObject({ delivered: false, permanent: true });
      return outcome.delivered === false ? outcome.error : '';
    };

    expect(await refusedAs('https://hooks.example.test/hook', resolvingTo('10.1.2.3'))).toBe(
      'webhook target refused: hooks.example.test resolves to 10.1.2.3, a non-public address (private; WEBHOOK_ALLOW_PRIVATE is off)',
    );
    expect(await refusedAs('http://169.254.169.254/latest/meta-data/')).toBe(
      'webhook target refused: 169.254.169.254 is a non-public address (cloud metadata; WEBHOOK_ALLOW_PRIVATE is off)',
    );
    expect(await refusedAs('http://[fd00:ec2::254]/latest/meta-data/')).toMatch(/\(cloud metadata; WEBHOOK_ALLOW_PRIVATE is off\)$/);
    expect(await refusedAs('http://[fd12:3456::1]/hook')).toMatch(/\(unique-local; /);
    expect(await refusedAs('http://100.64.1.1/hook')).toMatch(/\(carrier-grade NAT; /);
    expect(await refusedAs(`http://0.0.0.0:${receiver.port}/hook`)).toMatch(/\("this network"; /);
    expect(receiver.requests).toHaveLength(0);
  });

  it('refuses cloud metadata service names without asking DNS', async () => {
    const asked: string[] = [];
    const resolve = async (hostname: string) => (asked.push(hostname), [{ address: '93.184.215.14', family: 4 as const }]);

    const outcome = await channel({ policy: LOOPBACK_ONLY, resolve }).send(planFor('http://metadata.google.internal/computeMetadata/v1/'));

    expect(outcome).toEqual({
      delivered: false,
      error: 'webhook target refused: metadata.google.internal is a cloud metadata service (WEBHOOK_ALLOW_PRIVATE is off)',
      permanent: true,
    });
    expect(asked).toEqual([]);
  });

  it('refuses a name whose addresses include a private one, even next to a public one', async () => {
    const resolve = async () => [
      { address: '93.184.215.14', family: 4 as const },
      { address: '10.1.2.3', family: 4 as const },
    ];

    const outcome = await channel({ policy: PUBLIC_ONLY, resolve }).send(planFor('https://hooks.example.test/hook'));

    expect(outcome).toEqual({
      delivered: false,
      error: 'webhook target refused: hooks.example.test resolves to 10.1.2.3, a non-public address (private; WEBHOOK_ALLOW_PRIVATE is off)',
      permanent: true,
    });
  });

  it('delivers to a name resolving to loopback when private networks are allowed', async () => {
    const outcome = await channel({ policy: ANY_NETWORK }).send(planFor(`http://localhost:${receiver.port}/hook`));

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
    expect(outcome.delivered === false && outcome.error).toMatch(/^cannot resolve no-such-host\.invalid \(E[A-Z]+\)$/);
  });

  it('a team without a webhook secret yet is a failed attempt, and nothing is sent unsigned', async () => {
    const outcome = await channel({ signingSecretsOf: async () => null }).send(planFor(receiver.url));

    expect(outcome).toMatchObject({ delivered: false, permanent: false });
    expect(receiver.requests).toHaveLength(0);
  });
});

describe('non-public address classification', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['10.20.30.40', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:a00:1', 'private'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['169.254.169.254', 'cloud metadata'],
    ['::ffff:169.254.169.254', 'cloud metadata'],
    ['169.254.170.2', 'cloud metadata'],
    ['100.100.100.200', 'cloud metadata'],
    ['fd00:ec2::254', 'cloud metadata'],
    ['169.254.1.1', 'link-local'],
    ['0.0.0.0', '"this network"'],
    ['192.0.2.10', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['255.255.255.255', 'reserved'],
    ['224.0.0.1', 'multicast'],
    ['::', 'unspecified'],
    ['::a00:1', 'IPv4-compatible'],
    ['64:ff9b::a00:1', 'NAT64'],
    ['2002:a00:1::', '6to4'],
    ['2001:db8::1', 'documentation'],
    ['fd12:3456::1', 'unique-local'],
    ['fc00::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['ff02::1', 'multicast'],
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

describe('webhook targets checked when a flow is edited', () => {
  const resolvingTo = (address: string) => async () => [{ address, family: 4 as const }];

  it('refuses a URL whose host is, or resolves to, an address the policy does not allow', async () => {
    expect(await webhookTargetRefusal('http://10.0.0.8/hook', { policy: LOOPBACK_ONLY })).toMatch(/^webhook target refused: 10\.0\.0\.8 is a non-public address \(private;/);
    expect(await webhookTargetRefusal('https://intranet.example.test/hook', { policy: LOOPBACK_ONLY, resolve: resolvingTo('192.168.0.7') })).toMatch(
      /^webhook target refused: intranet\.example\.test resolves to 192\.168\.0\.7/,
    );
    expect(await webhookTargetRefusal('http://127.0.0.1:4000/page', { policy: PUBLIC_ONLY })).toMatch(/\(loopback; WEBHOOK_ALLOW_LOOPBACK is off\)$/);
  });

  it('accepts public targets, allowed ones, and names that do not resolve yet (the send decides then)', async () => {
    expect(await webhookTargetRefusal('https://hooks.example.test/hook', { policy: PUBLIC_ONLY, resolve: resolvingTo('93.184.215.14') })).toBeNull();
    expect(await webhookTargetRefusal('http://127.0.0.1:4000/page', { policy: LOOPBACK_ONLY })).toBeNull();
    expect(await webhookTargetRefusal('http://10.0.0.8/hook', { policy: ANY_NETWORK })).toBeNull();
    const unresolvable = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    expect(await webhookTargetRefusal('https://later.example.test/hook', { policy: PUBLIC_ONLY, resolve: unresolvable })).toBeNull();
  });
});

async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}
