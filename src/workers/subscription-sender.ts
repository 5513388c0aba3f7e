import type { NotificationOutcome } from '../domain/alert/commands.js';
import type { BrokerConnection } from '../infra/amqp.js';
import { type BrokerNames, declareSubscriptionDeliveriesQueue } from '../infra/delay-cascade.js';
import { parseMessage, SubscriptionWork, type TimerMessage } from '../infra/broker-messages.js';
import type { Logger } from '../infra/logger.js';
import type { WebhookNetworkPolicy } from '../infra/network-guard.js';
import { pause } from '../infra/pause.js';
import type { Pool } from '../infra/postgres.js';
import { type QueueConsumer, type ReceivedMessage, startQueueConsumer } from '../infra/queue-consumer.js';
import { postSignedWebhook } from './channels/webhook.js';
import { FairDispatcher } from './fair-dispatcher.js';
import { offerOrDefer } from './offer-or-defer.js';
import { SUBSCRIPTION_DELIVERIES } from './subscription-reactor.js';

export interface SubscriptionSenderOptions {
  broker: BrokerConnection;
  names: BrokerNames;
  pool: Pool;
  publisher: {
    publishTimers(timers: readonly TimerMessage[]): Promise<void>;
    publishSubscriptionWork(work: SubscriptionWork): Promise<void>;
  };
  /** The team's `whsec_` secrets, current first; null when the team is not known (yet). */
  signingSecretsOf: (teamId: string, now: Date) => Promise<string[] | null>;
  policy: WebhookNetworkPolicy;
  timeoutMs: number;
  logger: Logger;
  clock?: () => Date;
  retry?: { maxAttempts: number; initialBackoffMs: number; maxBackoffMs: number };
  fairness?: { concurrency: number; perTeamInFlight: number; perTeamWaiting: number };
}

/** Eight attempts over about four minutes, then the delivery is recorded as failed and the next one goes. */
export const DEFAULT_SUBSCRIPTION_RETRY = { maxAttempts: 8, initialBackoffMs: 2000, maxBackoffMs: 120_000 } as const;
/** 16 senders; one team may hold 8 of them, so a team whose receiver hangs leaves the other half to everyone else. */
export const DEFAULT_SUBSCRIPTION_FAIRNESS = { concurrency: 16, perTeamInFlight: 8, perTeamWaiting: 16 } as const;

/** Deliveries one turn sends of a line before it goes back in the queue behind other work. */
const DELIVERIES_PER_TURN = 20;
const RECHECK_MS = 1000;
const COMMIT_CHECKS = 20;
const COMMIT_CHECK_MS = 25;

interface Delivery {
  id: string;
  team_id: string;
  url: string;
  body: unknown;
  attempts: number;
  next_attempt_at: Date;
  lease_until: Date | null;
}

type Head = { kind: 'none' } | { kind: 'wait' } | { kind: 'claimed'; delivery: Delivery; attempt: number };

/**
 * Sends lifecycle webhooks. Work names a line, a subscription's deliveries of one alert; the line is sent strictly in
 * the order of the alert's stream: its first pending delivery is claimed (the attempt is counted and leased before
 * anything leaves), sent, and settled before the next is looked at. A failed attempt waits its backoff in the delay
 * cascade and holds the line until it is delivered or given up. A crash mid-send leaves a lease that ends on its
 * own; the work is redelivered and the same delivery is sent again under the same webhook-id. Teams share the
 * senders through a FairDispatcher, so a receiver that hangs holds only its own team's share.
 */
export async function startSubscriptionSender(options: SubscriptionSenderOptions): Promise<QueueConsumer> {
  const { pool, publisher, names } = options;
  const clock = options.clock ?? (() => new Date());
  const retry = options.retry ?? DEFAULT_SUBSCRIPTION_RETRY;
  const fairness = options.fairness ?? DEFAULT_SUBSCRIPTION_FAIRNESS;
  const leaseMs = options.timeoutMs + 10_000;
  const log = options.logger.child({ worker: 'subscription-sender' });
  const dispatcher = new FairDispatcher(fairness);
  // Lines this process is sending now: another message for one of them comes back later rather than racing it.
  const sending = new Set<string>();
  // Lines this process has sent round the cascade, and when they come back: copies of a line (a duplicate, a line
  // the sweep handed back while it waited) collapse into the one already on its way instead of circling beside it.
  const deferredUntil = new Map<string, number>();
  let consecutiveErrors = 0;
  const lineOf = (work: SubscriptionWork) => `${work.subscriptionId}:${work.alertId}`;

  /** Sends the line round the cascade until `at`, unless it is on its way round already. */
  async function defer(work: SubscriptionWork, at: Date): Promise<void> {
    const line = lineOf(work);
    const now = clock().getTime();
    if ((deferredUntil.get(line) ?? 0) > now) return;
    if (deferredUntil.size >= 10_000) for (const [key, until] of deferredUntil) if (until <= now) deferredUntil.delete(key);
    await later(work, at);
    deferredUntil.set(line, at.getTime() + RECHECK_MS);
  }

  const later = (work: SubscriptionWork, at: Date, after = work.after) =>
    publisher.publishTimers([
      { kind: 'subscription', teamId: work.teamId, subscriptionId: work.subscriptionId, alertId: work.alertId, ...(after ? { after } : {}), dueAt: at.toISOString() },
    ]);
  const soon = () => new Date(clock().getTime() + RECHECK_MS);

  async function reactorPassed(after: NonNullable<SubscriptionWork['after']>): Promise<boolean> {
    const { rows } = await pool.query<{ passed: boolean }>(
      `select (transaction_id, global_position) >= ($2::xid8, $3::bigint) as passed from subscription_checkpoints where subscription_name = $1`,
      [SUBSCRIPTION_DELIVERIES, after.transactionId, after.globalPosition],
    );
    return rows[0]?.passed ?? false;
  }

  async function claimHead(work: SubscriptionWork): Promise<Head> {
    const now = clock();
    const { rows } = await pool.query<Delivery>(
      `select id, team_id, url, body, attempts, next_attempt_at, lease_until from subscription_deliveries
        where subscription_id = $1 and alert_id = $2 and status = 'pending' order by stream_version limit 1`,
      [work.subscriptionId, work.alertId],
    );
    const head = rows[0];
    if (!head) return { kind: 'none' };
    if ((head.lease_until && head.lease_until > now) || head.next_attempt_at > now) return { kind: 'wait' };
    const attempt = head.attempts + 1;
    // The attempt count fences the claim: of two senders that read the same head, one claims it.
    const claimed = await pool.query(
      `update subscription_deliveries set attempts = $2, lease_until = $3
        where id = $1 and status = 'pending' and attempts = $4`,
      [head.id, attempt, new Date(now.getTime() + leaseMs), head.attempts],
    );
    if (claimed.rowCount !== 1) return { kind: 'wait' };
    return { kind: 'claimed', delivery: head, attempt };
  }

  async function send(delivery: Delivery, attempt: number): Promise<NotificationOutcome> {
    const now = clock();
    const secrets = await options.signingSecretsOf(delivery.team_id, now);
    if (!secrets || secrets.length === 0) return { delivered: false, error: 'the team has no webhook signing secret yet', permanent: false };
    try {
      return await postSignedWebhook({
        url: new URL(delivery.url),
        messageId: delivery.id,
        body: Buffer.from(JSON.stringify(delivery.body)),
        secrets,
        now,
        timeoutMs: options.timeoutMs,
        policy: options.policy,
        headers: { 'x-alertops-attempt': String(attempt) },
      });
    } catch (error) {
      return { delivered: false, error: `could not send: ${(error as Error).message}`, permanent: false };
    }
  }

  /** Records the outcome; the time the line is due again when the delivery is to be retried. */
  async function settle(delivery: Delivery, attempt: number, outcome: NotificationOutcome): Promise<Date | null> {
    const now = clock();
    if (outcome.delivered) {
      await pool.query(
        `update subscription_deliveries set status = 'delivered', lease_until = null, last_error = null, finished_at = $3
          where id = $1 and status = 'pending' and attempts = $2`,
        [delivery.id, attempt, now],
      );
      return null;
    }
    if (outcome.permanent || attempt >= retry.maxAttempts) {
      await pool.query(
        `update subscription_deliveries set status = 'failed', lease_until = null, last_error = $3, finished_at = $4
          where id = $1 and status = 'pending' and attempts = $2`,
        [delivery.id, attempt, outcome.error, now],
      );
      log.warn({ deliveryId: delivery.id, attempt, error: outcome.error }, 'lifecycle webhook given up');
      return null;
    }
    const retryAt = new Date(now.getTime() + Math.min(retry.maxBackoffMs, retry.initialBackoffMs * 2 ** (attempt - 1)));
    await pool.query(
      `update subscription_deliveries set lease_until = null, last_error = $3, next_attempt_at = $4
        where id = $1 and status = 'pending' and attempts = $2`,
      [delivery.id, attempt, outcome.error, retryAt],
    );
    return retryAt;
  }

  /**
   * The reactor publishes before its rows commit, which takes it moments: a short wait here saves the line a round
   * of the cascade. False when the reactor has not passed `after` by then.
   */
  async function reactorCommitted(after: NonNullable<SubscriptionWork['after']>, closed: AbortSignal): Promise<boolean> {
    for (let tries = 0; tries < COMMIT_CHECKS; tries++) {
      if (await reactorPassed(after)) return true;
      if (!(await pause(COMMIT_CHECK_MS, closed))) return false;
    }
    return false;
  }

  async function sendLine(work: SubscriptionWork, closed: AbortSignal): Promise<void> {
    // Until the reactor's checkpoint has passed `after`, the rows this work is about may be on their way.
    if (work.after && !(await reactorCommitted(work.after, closed))) {
      await later(work, soon());
      return;
    }
    for (let sent = 0; sent < DELIVERIES_PER_TURN; sent++) {
      const head = await claimHead(work);
      if (head.kind === 'none') return;
      // Its retry timer or its lease holder will carry the line on; if either is lost, the sweep hands it back.
      if (head.kind === 'wait') return;
      const { delivery, attempt } = head;
      const outcome = await send(delivery, attempt);
      const context = { deliveryId: delivery.id, subscriptionId: work.subscriptionId, alertId: work.alertId, attempt };
      if (outcome.delivered) log.info(context, 'lifecycle webhook delivered');
      else log.warn({ ...context, error: outcome.error }, 'lifecycle webhook attempt failed');
      const retryAt = await settle(delivery, attempt, outcome);
      if (retryAt) {
        await later(work, retryAt, undefined);
        return;
      }
    }
    await publisher.publishSubscriptionWork({ teamId: work.teamId, subscriptionId: work.subscriptionId, alertId: work.alertId });
  }

  async function runLine(work: SubscriptionWork, message: ReceivedMessage): Promise<void> {
    if (message.closed.aborted) return;
    const line = lineOf(work);
    deferredUntil.delete(line);
    try {
      if (sending.has(line)) await defer(work, soon());
      else {
        sending.add(line);
        try {
          await sendLine(work, message.closed);
        } finally {
          sending.delete(line);
        }
      }
      consecutiveErrors = 0;
      message.ack();
    } catch (error) {
      consecutiveErrors++;
      const waitMs = Math.min(10_000, 250 * 2 ** Math.min(consecutiveErrors - 1, 16));
      log.error({ err: error, ...work, retryInMs: waitMs }, 'lifecycle webhooks interrupted by an infrastructure error; requeueing');
      await pause(waitMs, message.closed);
      message.nack(true);
    }
  }

  async function handle(message: ReceivedMessage): Promise<void> {
    const work = parseMessage(SubscriptionWork, message.content);
    if (!work) {
      log.error({ content: message.content.toString('utf8', 0, 500) }, 'dropping a malformed subscription work message');
      message.nack(false);
      return;
    }
    await offerOrDefer(
      dispatcher,
      message,
      {
        team: work.teamId,
        run: () => runLine(work, message),
        defer: (delayMs) => defer(work, new Date(clock().getTime() + delayMs)),
        context: work,
      },
      { retryMs: 250, logger: log },
    );
  }

  return startQueueConsumer({
    name: 'subscription-sender',
    broker: options.broker,
    queue: names.subscriptionDeliveriesQueue,
    prefetch: fairness.concurrency + 2 * fairness.perTeamWaiting,
    logger: log,
    prepare: (channel) => declareSubscriptionDeliveriesQueue(channel, names),
    handle,
  });
}

/** Lines handed back per pass at most; the next pass takes the rest. */
const SWEPT_PER_PASS = 500;

/**
 * Hands back to the sender every line whose first pending delivery is overdue by more than `graceMs` and not leased:
 * its work or its retry timer was lost (a purged queue, a publish that never happened). A line whose work is only
 * late gets a duplicate, which sends nothing twice (the lease and the attempt count fence it).
 */
export async function sweepSubscriptionLines(
  pool: Pool,
  publisher: Pick<SubscriptionSenderOptions['publisher'], 'publishSubscriptionWork'>,
  now: Date,
  graceMs: number,
): Promise<number> {
  const { rows } = await pool.query<{ team_id: string; subscription_id: string; alert_id: string }>(
    `select team_id, subscription_id, alert_id from (
       select distinct on (subscription_id, alert_id) team_id, subscription_id, alert_id, next_attempt_at, lease_until
         from subscription_deliveries where status = 'pending'
        order by subscription_id, alert_id, stream_version) head
      where head.next_attempt_at < $1 and (head.lease_until is null or head.lease_until < $2)
      limit $3`,
    [new Date(now.getTime() - graceMs), now, SWEPT_PER_PASS],
  );
  for (const row of rows) {
    await publisher.publishSubscriptionWork({ teamId: row.team_id, subscriptionId: row.subscription_id, alertId: row.alert_id });
  }
  return rows.length;
}
