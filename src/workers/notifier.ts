import { type RecordedPage, recordNotificationOutcome, startNotificationAttempt } from '../commands/alerts.js';
import type { CommandDependencies } from '../commands/handle-command.js';
import type { NotificationOutcome } from '../domain/alert/commands.js';
import type { NotificationAttemptPlan } from '../domain/alert/notification-attempt.js';
import type { BrokerConnection } from '../infra/amqp.js';
import { type BrokerNames, declareDeliveriesQueue } from '../infra/delay-cascade.js';
import type { Logger } from '../infra/logger.js';
import type { Metrics } from '../infra/metrics.js';
import type { EscalationPublisher } from '../infra/delay-cascade.js';
import type { SenderLiveness } from '../infra/sender-liveness.js';
import { pause } from '../infra/pause.js';
import { inCurrentTrace, SpanAttribute, SpanKind, traced } from '../infra/tracing.js';
import { type ReceivedMessage, startQueueConsumer } from '../infra/queue-consumer.js';
import { type ChannelName, channelFor, type NotificationChannel } from './channels/channel.js';
import { CircuitBreaker } from './channels/circuit-breaker.js';
import { FairDispatcher } from './fair-dispatcher.js';
import { offerOrDefer } from './offer-or-defer.js';
import { DeliveryWork, parseMessage } from '../infra/broker-messages.js';

/** The two commands around a send: persist the attempt, then record what became of it. */
export interface NotificationAttempts {
  start(input: {
    alertId: string;
    deliveryId: string;
    now: Date;
    sender: string | null;
    deadSenders: readonly string[];
  }): Promise<NotificationAttemptPlan | null>;
  record(input: { alertId: string; deliveryId: string; attempt: number; outcome: NotificationOutcome; now: Date }): Promise<void>;
}

/** The attempts as the alert's stream records them; each recorded outcome is counted in `pages`. */
export function eventSourcedAttempts(deps: CommandDependencies, pages?: Metrics['pages']): NotificationAttempts {
  const count = (recorded: readonly RecordedPage[]) => {
    for (const { outcome, target } of recorded) pages?.inc({ channel: channelFor(target), outcome });
  };
  return {
    start: async (input) => {
      const { plan, pages: recorded } = await startNotificationAttempt(deps, input);
      count(recorded);
      return plan;
    },
    record: async (input) => count(await recordNotificationOutcome(deps, input)),
  };
}

export interface NotifierOptions {
  broker: BrokerConnection;
  names: BrokerNames;
  attempts: NotificationAttempts;
  channels: Record<ChannelName, NotificationChannel>;
  logger: Logger;
  metrics: Pick<Metrics, 'notificationsDelivered'>;
  /** Who this process is as a sender, and which senders have stopped (their open attempts are resolved at once). */
  liveness?: Pick<SenderLiveness, 'senderId' | 'stoppedSenders'>;
  clock?: () => Date;
  /** How this process shares its senders among teams (see FairDispatcher). */
  fairness?: ConstructorParameters<typeof FairDispatcher>[0];
  /**
   * Where work refused for now (its team's line is full) goes to come back later: after about as long as the team's
   * line takes to move, within DELIVERY_DEFERRAL, so a team whose targets hang does not churn its backlog every second.
   */
  deferral?: { publisher: Pick<EscalationPublisher, 'publishTimers'> };
  /** Per-destination circuit breaker for webhooks; one per process by default. */
  circuitBreaker?: CircuitBreaker;
  /** Wait before handing a message back after an infrastructure error; grows with consecutive errors. */
  infrastructureBackoffMs?: { initial: number; max: number };
}

const RECORD_TRIES = 5;

/**
 * 32 senders; one team may hold 24 of them, and have 32 more deliveries waiting in this process, or 256 while no
 * other team has sent any for 10 s (a lone team's burst waits here instead of going round the delay cascade).
 */
export const DEFAULT_FAIRNESS = { concurrency: 32, perTeamInFlight: 24, perTeamWaiting: 32, perTeamWaitingAlone: 256, othersActiveMs: 10_000 } as const;

export interface Notifier {
  stop(): Promise<void>;
}

/**
 * Consumes the deliveries work queue: start the attempt (recorded before anything leaves), send it through
 * the target's channel, record the outcome, and only then ack. When our own infrastructure fails (the event
 * store is down) the message goes back to the queue after a backoff; on redelivery the open attempt is
 * resolved by the decider's outcome-unknown policy, so nothing is lost and nothing is recorded twice.
 */
export async function startNotifier(options: NotifierOptions): Promise<Notifier> {
  const { attempts, channels, logger, metrics, names } = options;
  const clock = options.clock ?? (() => new Date());
  const backoff = options.infrastructureBackoffMs ?? { initial: 250, max: 10_000 };
  const log = logger.child({ worker: 'notifier' });

  const fairness = options.fairness ?? DEFAULT_FAIRNESS;
  const dispatcher = new FairDispatcher(fairness);
  const circuitBreaker = options.circuitBreaker ?? new CircuitBreaker({ failuresToOpen: 5, openMs: 30_000 });

  // Deliveries this process is sending right now. A second message for one of them (a duplicate publish) must
  // not start another attempt while this one holds the attempt's lease.
  const sending = new Set<string>();
  let consecutiveInfrastructureErrors = 0;

  async function deliver(work: DeliveryWork, closed: AbortSignal): Promise<void> {
    const plan = await attempts.start({
      alertId: work.alertId,
      deliveryId: work.deliveryId,
      now: clock(),
      sender: options.liveness?.senderId ?? null,
      deadSenders: options.liveness?.stoppedSenders() ?? [],
    });
    if (!plan) {
      log.debug({ ...work }, 'nothing to send for this delivery (done, cancelled or not due yet)');
      return;
    }
    const channelName = channelFor(plan.target);
    const attributes = {
      [SpanAttribute.alertId]: plan.alertId,
      [SpanAttribute.teamId]: plan.teamId,
      [SpanAttribute.deliveryId]: plan.deliveryId,
      [SpanAttribute.step]: plan.step,
      [SpanAttribute.attempt]: plan.attempt,
      [SpanAttribute.channel]: channelName,
    };
    const outcome = await traced(
      `send ${channelName}`,
      attributes,
      async (span): Promise<NotificationOutcome> => {
        let sent: NotificationOutcome;
        try {
          const { target } = plan;
          sent =
            target.type === 'webhook'
              ? await circuitBreaker.send(new URL(target.url).origin, () => channels.webhook.send(plan))
              : await channels[channelName].send(plan);
        } catch (error) {
          sent = { delivered: false, error: `could not send: ${(error as Error).message}`, permanent: false };
        }
        span.setAttribute('alertops.delivered', sent.delivered);
        return sent;
      },
      SpanKind.CLIENT,
    );
    metrics.notificationsDelivered.inc({
      channel: channelName,
      outcome: outcome.delivered ? 'delivered' : outcome.permanent ? 'failed_permanently' : 'failed',
    });
    const context = { ...work, attempt: plan.attempt, channel: channelName };
    if (outcome.delivered) log.info({ ...context, detail: outcome.detail }, 'notification delivered');
    else log.warn({ ...context, error: outcome.error, permanent: outcome.permanent }, 'notification attempt failed');
    // The send has happened: losing its outcome now would cost a resend after the attempt's lease, so a passing
    // database fault is retried here before the message goes back to the queue.
    for (let tries = 1; ; tries++) {
      try {
        await attempts.record({ alertId: work.alertId, deliveryId: work.deliveryId, attempt: plan.attempt, outcome, now: clock() });
        return;
      } catch (error) {
        if (tries >= RECORD_TRIES || !(await pause(backoff.initial * 2 ** (tries - 1), closed))) throw error;
        log.warn({ err: error, ...context }, 'could not record the outcome yet; retrying');
      }
    }
  }

  async function handle(message: ReceivedMessage): Promise<void> {
    const work = parseMessage(DeliveryWork, message.content);
    if (!work) {
      log.error({ content: message.content.toString('utf8', 0, 500) }, 'dropping a malformed delivery work message');
      message.nack(false);
      return;
    }
    const { deferral } = options;
    await offerOrDefer(
      dispatcher,
      message,
      {
        team: work.teamId ?? 'unknown',
        run: inCurrentTrace(() => deliverAndSettle(work, message)),
        defer: async (delayMs) => {
          if (!deferral) throw new Error('no way to defer delivery work');
          const { alertId, deliveryId, teamId } = work;
          const dueAt = new Date(clock().getTime() + delayMs).toISOString();
          await deferral.publisher.publishTimers([{ kind: 'delivery', alertId, deliveryId, ...(teamId ? { teamId } : {}), dueAt }]);
        },
        context: work,
      },
      { retryMs: backoff.initial, logger: log },
    );
  }

  async function deliverAndSettle(work: DeliveryWork, message: ReceivedMessage): Promise<void> {
    if (message.closed.aborted) return;
    if (sending.has(work.deliveryId)) {
      log.debug({ ...work }, 'delivery already being sent by this process; dropping the duplicate');
      message.ack();
      return;
    }
    sending.add(work.deliveryId);
    try {
      await deliver(work, message.closed);
      consecutiveInfrastructureErrors = 0;
      message.ack();
    } catch (error) {
      consecutiveInfrastructureErrors++;
      const waitMs = Math.min(backoff.max, backoff.initial * 2 ** Math.min(consecutiveInfrastructureErrors - 1, 16));
      log.error({ err: error, ...work, retryInMs: waitMs }, 'delivery interrupted by an infrastructure error; requeueing');
      // Stopping cuts the wait short; the message still goes back to the queue rather than waiting for the broker.
      await pause(waitMs, message.closed);
      message.nack(true);
    } finally {
      sending.delete(work.deliveryId);
    }
  }

  return startQueueConsumer({
    name: 'notifier',
    broker: options.broker,
    queue: names.deliveriesQueue,
    // Room beyond the senders for a lone team's line and, beside it, for other teams' work once they show up.
    prefetch: fairness.concurrency + Math.max(fairness.perTeamWaiting, fairness.perTeamWaitingAlone ?? 0) + 2 * fairness.perTeamWaiting,
    logger: log,
    prepare: (channel) => declareDeliveriesQueue(channel, names),
    handle,
  });
}
