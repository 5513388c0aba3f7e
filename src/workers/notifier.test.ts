import { randomUUID } from 'node:crypto';
import { attemptPlan } from '../../test/support/attempt-plan.js';
import type amqp from 'amqplib';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCatalog } from '../catalog.js';
import { fireEscalationStep, triggerAlert } from '../commands/alerts.js';
import type { NotificationAttemptPlan } from '../domain/alert/notification-attempt.js';
import type { NotificationOutcome } from '../domain/alert/commands.js';
import { PostgresEventStore } from '../eventstore/postgres.js';
import { BrokerConnection } from '../infra/amqp.js';
import { type BrokerNames, declareDeliveriesQueue, publishDeliveryWork } from '../infra/delay-cascade.js';
import { createLogger } from '../infra/logger.js';
import { createMailer, type Mailer } from '../infra/mailer.js';
import { createMetrics, type Metrics } from '../infra/metrics.js';
import { webhookSecret } from '../infra/webhook-secrets.js';
import { createTestDatabase, type TestDatabase, uniqueName } from '../../test/support/database.js';
import { type SmtpSink, startSmtpSink } from '../../test/support/smtp-sink.js';
import { waitFor } from '../../test/support/wait.js';
import { alwaysOk, failFirst, hangFirst, startWebhookReceiver, type WebhookReceiver } from '../../test/support/webhook-receiver.js';
import type { RecipientDirectory } from './channels/channel.js';
import { createNotificationChannels } from './channels/index.js';
import { brokerNames, type DeliveryWork } from '../infra/broker-messages.js';
import { eventSourcedAttempts, type NotificationAttempts, type Notifier, startNotifier } from './notifier.js';

const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
const signingKey = 'notifier-test-signing-key-at-least-32-characters';
const directory: RecipientDirectory = {
  memberEmail: async () => ({ status: 'not_member' }),
  webhookSecretGenerationOf: async () => ({ generation: 0, rotatedAt: null }),
};

interface StartCall {
  alertId: string;
  deliveryId: string;
  now: Date;
}
interface RecordCall extends StartCall {
  attempt: number;
  outcome: NotificationOutcome;
}

/**
 * Attempts kept in memory with the decider's essential rules: a delivery with a recorded success has
 * nothing left to send, and each start is the next attempt number.
 */
class RecordingAttempts implements NotificationAttempts {
  readonly started: StartCall[] = [];
  readonly recorded: RecordCall[] = [];
  failStarts = 0;
  private readonly attemptsSoFar = new Map<string, number>();

  constructor(private readonly plans: Map<string, NotificationAttemptPlan>) {}

  async start(input: StartCall) {
    this.started.push(input);
    if (this.failStarts > 0) {
      this.failStarts--;
      throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    }
    const plan = this.plans.get(input.deliveryId);
    const done = this.recorded.some((call) => call.deliveryId === input.deliveryId && call.outcome.delivered);
    if (!plan || done) return null;
    const attempt = (this.attemptsSoFar.get(input.deliveryId) ?? 0) + 1;
    this.attemptsSoFar.set(input.deliveryId, attempt);
    return { ...plan, attempt };
  }

  async record(input: RecordCall) {
    this.recorded.push(input);
  }
}

const planFor = (target: NotificationAttemptPlan['target']) =>
  attemptPlan(target, { alert: { summary: 'payments API returning 503', details: { region: 'eu' }, severity: 'critical' } });

const workOf = (plan: NotificationAttemptPlan): DeliveryWork => ({ alertId: plan.alertId, deliveryId: plan.deliveryId });

describe('notifier', () => {
  let broker: BrokerConnection;
  let publisher: amqp.ConfirmChannel;
  let receiver: WebhookReceiver;
  let sink: SmtpSink;
  let mailer: Mailer;
  let names: BrokerNames;
  let metrics: Metrics;
  let notifier: Notifier | null = null;

  beforeAll(async () => {
    broker = new BrokerConnection(inject('amqpUrl'), logger);
    await broker.start();
    publisher = await broker.current().createConfirmChannel();
    receiver = await startWebhookReceiver();
    sink = await startSmtpSink();
    mailer = createMailer({ smtpUrl: sink.url, smtpFrom: 'AlertOps <pager@alertops.test>' })!;
  });

  afterEach(async () => {
    await notifier?.stop();
    notifier = null;
    await publisher.deleteQueue(names.deliveriesQueue);
  });

  afterAll(async () => {
    mailer?.close();
    await publisher?.close().catch(() => undefined);
    await broker?.close();
    await receiver?.stop();
    await sink?.stop();
  });

  async function start(attempts: NotificationAttempts, change: { timeoutMs?: number } = {}) {
    names = brokerNames(uniqueName('notifier_test').toLowerCase());
    metrics = createMetrics();
    receiver.requests.length = 0;
    receiver.respondWith(alwaysOk);
    await declareDeliveriesQueue(publisher, names);
    notifier = await startNotifier({
      broker,
      names,
      attempts,
      channels: createNotificationChannels(
        {
          webhookTimeoutMs: change.timeoutMs ?? 2000,
          webhookAllowPrivate: false,
          webhookAllowLoopback: true,
          webhookSigningKey: signingKey,
          jwtSecret: signingKey,
          actionLinkTtlHours: 24,
        },
        directory,
        mailer,
        () => 'http://alertops.test',
      ),
      logger,
      metrics,
      infrastructureBackoffMs: { initial: 50, max: 200 },
    });
  }

  const publish = (work: unknown) => publishDeliveryWork(publisher, names, work as DeliveryWork);

  /** Stops the notifier and reports the messages left in the queue: unacked ones return to it on close. */
  async function stopAndCountLeftovers(): Promise<number> {
    await notifier?.stop();
    notifier = null;
    return (await publisher.checkQueue(names.deliveriesQueue)).messageCount;
  }

  async function counted(channel: string, outcome: string): Promise<number> {
    const { values } = await metrics.notificationsDelivered.get();
    return values.find((value) => value.labels.channel === channel && value.labels.outcome === outcome)?.value ?? 0;
  }

  it('starts the attempt, sends it to the webhook, records the outcome, and only then acks', async () => {
    const plan = planFor({ type: 'webhook', url: `${receiver.url}/pager` });
    const attempts = new RecordingAttempts(new Map([[plan.deliveryId, plan]]));
    await start(attempts);

    await publish(workOf(plan));

    await waitFor('the outcome to be recorded', () => attempts.recorded.length === 1);
    expect(attempts.started).toMatchObject([{ alertId: plan.alertId, deliveryId: plan.deliveryId }]);
    expect(attempts.recorded).toMatchObject([
      { alertId: plan.alertId, deliveryId: plan.deliveryId, attempt: 1, outcome: { delivered: true, detail: 'HTTP 200' } },
    ]);
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request!.headers['x-alertops-delivery']).toBe(plan.deliveryId);
    const verified = new Webhook(webhookSecret(signingKey, plan.teamId, 0)).verify(request!.rawBody.toString(), request!.headers as Record<string, string>);
    expect(verified).toMatchObject({ deliveryId: plan.deliveryId });
    expect(await counted('webhook', 'delivered')).toBe(1);
    expect(await stopAndCountLeftovers()).toBe(0);
  });

  it('pages an e-mail target through SMTP under the delivery id', async () => {
    const plan = planFor({ type: 'email', email: 'sre@example.com' });
    const attempts = new RecordingAttempts(new Map([[plan.deliveryId, plan]]));
    await start(attempts);

    await publish(workOf(plan));

    const mail = await waitFor('the page at the SMTP sink', () => sink.messages.find((m) => m.messageId === `<${plan.deliveryId}@alertops>`));
    expect(mail.to).toEqual(['sre@example.com']);
    expect(mail.subject).toBe('[AlertOps CRITICAL] payments API returning 503');
    await waitFor('the outcome to be recorded', () => attempts.recorded.length === 1);
    expect(attempts.recorded[0]!.outcome).toMatchObject({ delivered: true });
    expect(await counted('email', 'delivered')).toBe(1);
  });

  it('a redelivered message whose attempt was already recorded sends nothing', async () => {
    const plan = planFor({ type: 'webhook', url: receiver.url });
    const attempts = new RecordingAttempts(new Map([[plan.deliveryId, plan]]));
    await start(attempts);

    await publish(workOf(plan));
    await waitFor('the first outcome to be recorded', () => attempts.recorded.length === 1);
    await publish(workOf(plan));
    await waitFor('the redelivery to be considered', () => attempts.started.length === 2);

    expect(await stopAndCountLeftovers()).toBe(0);
    expect(receiver.requests).toHaveLength(1);
    expect(attempts.recorded).toHaveLength(1);
  });

  it('resubscribes by itself after the broker cancels it (its queue deleted), declaring the queue again', async () => {
    const plan = planFor({ type: 'webhook', url: `${receiver.url}/after-cancel` });
    const attempts = new RecordingAttempts(new Map([[plan.deliveryId, plan]]));
    await start(attempts);

    await publisher.deleteQueue(names.deliveriesQueue);
    await waitFor('the consumer to declare its queue again', async () => {
      // A passive check of a missing queue closes its channel: one throwaway channel per look.
      const probe = await broker.current().createChannel();
      probe.on('error', () => undefined);
      const found = await probe.checkQueue(names.deliveriesQueue).then(() => true, () => false);
      await probe.close().catch(() => undefined);
      return found;
    });
    await publish(workOf(plan));
    await waitFor('the delivery through the new subscription', () => attempts.recorded.length === 1);
    expect(receiver.requests.map((request) => request.path)).toEqual(['/after-cancel']);
  });

  it('records a failed attempt with the error the channel gave', async () => {
    const plan = planFor({ type: 'webhook', url: receiver.url });
    const attempts = new RecordingAttempts(new Map([[plan.deliveryId, plan]]));
    await start(attempts);
    receiver.respondWith(failFirst(1, 503));

    await publish(workOf(plan));

    await waitFor('the outcome to be recorded', () => attempts.recorded.length === 1);
    expect(attempts.recorded[0]!.outcome).toEqual({ delivered: false, error: 'HTTP 503', permanent: false });
    expect(await counted('webhook', 'failed')).toBe(1);
    expect(await stopAndCountLeftovers()).toBe(0);
  });

  it('a duplicate message for a delivery it is still sending starts no second attempt', async () => {
    const plan = planFor({ type: 'webhook', url: receiver.url });
    const attempts = new RecordingAttempts(new Map([[plan.deliveryId, plan]]));
    await start(attempts, { timeoutMs: 1500 });
    receiver.respondWith(hangFirst(1));

    await publish(workOf(plan));
    await waitFor('the first send to be in flight', () => receiver.requests.length === 1);
    await publish(workOf(plan));
    await waitFor('the timed-out attempt to be recorded', () => attempts.recorded.length === 1);

    expect(await stopAndCountLeftovers()).toBe(0);
    expect(attempts.started).toHaveLength(1);
    expect(receiver.requests).toHaveLength(1);
    expect(attempts.recorded[0]!.outcome).toEqual({ delivered: false, error: 'timeout after 1500 ms', permanent: false, unanswered: true });
  });

  it('drops malformed messages without attempting anything, and keeps consuming', async () => {
    const plan = planFor({ type: 'webhook', url: receiver.url });
    const attempts = new RecordingAttempts(new Map([[plan.deliveryId, plan]]));
    await start(attempts);

    await publisher.sendToQueue(names.deliveriesQueue, Buffer.from('{"alertId": not json'), { persistent: true });
    await publish({ alertId: 'not-a-uuid', deliveryId: randomUUID() });
    await publish({ deliveryId: randomUUID() });
    await publisher.waitForConfirms();
    await publish(workOf(plan));

    await waitFor('the well-formed message to be delivered', () => attempts.recorded.length === 1);
    expect(attempts.started.map((call) => call.deliveryId)).toEqual([plan.deliveryId]);
    expect(await stopAndCountLeftovers()).toBe(0);
  });

  it('hands the message back after an infrastructure error and delivers it once the store answers again', async () => {
    const plan = planFor({ type: 'webhook', url: receiver.url });
    const attempts = new RecordingAttempts(new Map([[plan.deliveryId, plan]]));
    attempts.failStarts = 2;
    await start(attempts);

    await publish(workOf(plan));

    await waitFor('the delivery to be recorded', () => attempts.recorded.length === 1);
    expect(attempts.started).toHaveLength(3);
    expect(receiver.requests).toHaveLength(1);
    expect(attempts.recorded[0]!.outcome).toMatchObject({ delivered: true });
    expect(await stopAndCountLeftovers()).toBe(0);
  });

  it('hands back, rather than loses, a message it was waiting to retry when it stops', async () => {
    const plan = planFor({ type: 'webhook', url: receiver.url });
    const attempts = new RecordingAttempts(new Map([[plan.deliveryId, plan]]));
    attempts.failStarts = 1_000;
    await start(attempts);

    await publish(workOf(plan));
    await waitFor('the first failing start', () => attempts.started.length >= 1);

    expect(await stopAndCountLeftovers()).toBe(1);
    expect(receiver.requests).toHaveLength(0);
  });

  describe('with the event-sourced alert', () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase();
    });
    afterAll(async () => {
      await database?.drop();
    });

    it('delivers a requested notification and records it in the alert stream; a redelivery sends nothing', async () => {
      const deps = { eventStore: new PostgresEventStore(database.pool), catalog: createCatalog(), pool: database.pool };
      const teamId = randomUUID();
      const now = new Date();
      const { alertId } = await triggerAlert(deps, {
        teamId,
        flow: {
          flowId: randomUUID(),
          version: 1,
          repeat: 0,
          nodes: [
            {
              id: randomUUID(),
              name: 'ops webhook',
              delaySeconds: 0,
              target: { type: 'webhook', url: `${receiver.url}/ops` },
              retry: { maxAttempts: 3, backoffSeconds: 1 },
            },
          ],
        },
        summary: 'queue depth above 10k',
        details: { queue: 'orders' },
        severity: 'warning',
        dedupKey: null,
        source: null,
        actor: 'system:test',
        now,
      });
      await fireEscalationStep(deps, { alertId, epoch: 0, loop: 0, step: 0, now });
      const requested = (await deps.eventStore.readStream(`alert-${alertId}`)).find((event) => event.type === 'NotificationRequested');
      const deliveryId = (requested!.data as { deliveryId: string }).deliveryId;
      await start(eventSourcedAttempts(deps));

      await publish({ alertId, deliveryId });

      const delivered = await waitFor('NotificationDelivered in the alert stream', async () =>
        (await deps.eventStore.readStream(`alert-${alertId}`)).find((event) => event.type === 'NotificationDelivered'),
      );
      expect(delivered.data).toMatchObject({ alertId, deliveryId, attempt: 1, detail: 'HTTP 200' });
      expect(receiver.requests).toHaveLength(1);
      expect(receiver.requests[0]!.json).toEqual({
        deliveryId,
        alert: { id: alertId, summary: 'queue depth above 10k', details: { queue: 'orders' }, severity: 'warning', status: 'triggered' },
        step: 0,
        attempt: 1,
        teamId,
        actions: {
          acknowledge: expect.stringMatching(/^http:\/\/alertops\.test\/a\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}#acknowledge$/),
          resolve: expect.stringMatching(/^http:\/\/alertops\.test\/a\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}#resolve$/),
        },
      });

      await publish({ alertId, deliveryId });
      expect(await stopAndCountLeftoversAfterDrain()).toBe(0);
      expect(receiver.requests).toHaveLength(1);
      const types = (await deps.eventStore.readStream(`alert-${alertId}`)).map((event) => event.type);
      expect(types.filter((type) => type === 'NotificationAttemptStarted')).toHaveLength(1);
    });

    /** Waits until the queue has handed out everything, then stops and counts what came back unacked. */
    async function stopAndCountLeftoversAfterDrain(): Promise<number> {
      await waitFor('the queue to be drained', async () => (await publisher.checkQueue(names.deliveriesQueue)).messageCount === 0);
      return stopAndCountLeftovers();
    }
  });
});
