import type { Kysely } from 'kysely';
import type { Counter, Histogram } from 'prom-client';
import type { Logger } from '../infra/logger.js';
import { stepLabel } from '../infra/metrics.js';
import type { ReadModels } from '../projections/read-models.js';
import type { DeliveryWork } from '../infra/broker-messages.js';
import type { FireEscalationStep, RetriggerAlert } from './timer-consumer.js';

export interface SweeperOptions {
  db: Kysely<Pick<ReadModels, 'pending_escalations' | 'pending_deliveries' | 'pending_retriggers'>>;
  fire: FireEscalationStep;
  /** Triggers an acknowledged alert again when its acknowledgement timeout or snooze is overdue; without it, those are left alone. */
  retrigger?: RetriggerAlert;
  publisher: {
    publishDeliveryWork(work: DeliveryWork): Promise<void>;
    /** Delivery work waiting in the notifier's queue; when unknown (no such method, or it fails) nothing is held back. */
    deliveryWorkWaiting?(): Promise<number>;
  };
  logger: Logger;
  intervalMs: number;
  /** Only work overdue by more than this is the sweeper's: the timers normally get there first. */
  graceMs: number;
  escalationLag?: Histogram<'step'>;
  /** Counted for every step the sweeper fired (`step`) and delivery it handed back (`delivery`). */
  redrives?: Counter<'kind'>;
  /** Senders known to have stopped: their open attempts are handed back at once, without waiting for the lease. */
  stoppedSenders?: () => readonly string[];
  /** Summarizes alert repeats counted outside their streams that no later repeat came to summarize. */
  summarizeQuietRepeats?: (now: Date) => Promise<number>;
  /** Passes soon after start-up, before the regular interval (ms after start-up, then after each other). */
  firstPassesMs?: readonly number[];
  clock?: () => Date;
  batchSize?: number;
  /**
   * While the notifier's queue holds work, an overdue delivery is most likely just queued behind it, so it is handed
   * back only once overdue by this much (default five grace periods); attempts of stopped senders are handed back
   * at once regardless.
   */
  backlogPatienceMs?: number;
}

export interface SweepReport {
  stepsFired: number;
  stepsNotFired: number;
  /** Acknowledgement timeouts and snoozes overdue beyond the grace period that triggered their alert again. */
  alertsRetriggered: number;
  deliveriesRedriven: number;
  /** Overdue deliveries not handed back this pass because the notifier's queue still holds work. */
  deliveriesLeftToBacklog: number;
  repeatsSummarized: number;
  failures: number;
}

export interface Sweeper {
  /** One pass now (the loop runs these on its own; exposed for operators and tests). */
  sweep(): Promise<SweepReport>;
  stop(): Promise<void>;
}

/**
 * The safety net under the broker: re-drives whatever the in-flight read model says is overdue beyond the
 * grace period. Steps go through the same fenced fire path as timers (a step the timer already fired is a
 * no-op), deliveries go back to the notifier's queue. A purged queue or a lost message only delays work.
 */
export function startSweeper(options: SweeperOptions): Sweeper {
  const { db, fire, publisher, logger, graceMs } = options;
  const clock = options.clock ?? (() => new Date());
  const batchSize = options.batchSize ?? 500;
  const backlogPatienceMs = options.backlogPatienceMs ?? 5 * graceMs;
  // A delivery just handed back gets a grace period of its own to be picked up before it is handed back again.
  const redrivenAt = new Map<string, number>();

  async function retriggerOverdue(retrigger: RetriggerAlert, cutoff: Date, report: SweepReport): Promise<void> {
    const overdue = await db
      .selectFrom('pending_retriggers')
      .select(['alert_id', 'epoch', 'due_at'])
      .where('due_at', '<', cutoff)
      .orderBy('due_at')
      .limit(batchSize)
      .execute();
    for (const pending of overdue) {
      const wakeUp = { alertId: pending.alert_id, epoch: pending.epoch };
      try {
        const result = await retrigger({ ...wakeUp, now: clock() });
        if (result.retriggered) {
          report.alertsRetriggered++;
          logger.warn({ ...wakeUp, dueAt: pending.due_at }, 'sweeper triggered an acknowledged alert again (its timer was late or lost)');
        }
      } catch (error) {
        report.failures++;
        logger.error({ err: error, ...wakeUp }, 'sweeper could not trigger an overdue acknowledged alert again');
      }
    }
  }

  async function sweep(): Promise<SweepReport> {
    const report: SweepReport = {
      stepsFired: 0,
      stepsNotFired: 0,
      alertsRetriggered: 0,
      deliveriesRedriven: 0,
      deliveriesLeftToBacklog: 0,
      repeatsSummarized: 0,
      failures: 0,
    };
    const cutoff = new Date(clock().getTime() - graceMs);

    const overdueSteps = await db
      .selectFrom('pending_escalations')
      .select(['alert_id', 'epoch', 'loop', 'step', 'due_at'])
      .where('due_at', '<', cutoff)
      .orderBy('due_at')
      .limit(batchSize)
      .execute();
    for (const pending of overdueSteps) {
      const step = { alertId: pending.alert_id, epoch: pending.epoch, loop: pending.loop, step: pending.step };
      try {
        const result = await fire({ ...step, now: clock() });
        if (result.fired) {
          report.stepsFired++;
          options.redrives?.inc({ kind: 'step' });
          if (result.lagMs !== null) options.escalationLag?.observe({ step: stepLabel(pending.step) }, result.lagMs / 1000);
          logger.warn({ ...step, dueAt: pending.due_at, lagMs: result.lagMs }, 'sweeper fired an overdue escalation step (its timer was late or lost)');
        } else {
          report.stepsNotFired++;
        }
      } catch (error) {
        report.failures++;
        logger.error({ err: error, ...step }, 'sweeper could not fire an overdue escalation step');
      }
    }

    if (options.retrigger) await retriggerOverdue(options.retrigger, cutoff, report);

    const stoppedSenders = options.stoppedSenders?.() ?? [];
    const overdueDeliveries = await db
      .selectFrom('pending_deliveries')
      .select(['delivery_id', 'alert_id', 'due_at', 'sender'])
      .where((where) => (stoppedSenders.length > 0 ? where.or([where('due_at', '<', cutoff), where('sender', 'in', stoppedSenders)]) : where('due_at', '<', cutoff)))
      .orderBy('due_at')
      .limit(batchSize)
      .execute();
    const now = clock().getTime();
    const workWaiting = overdueDeliveries.length > 0 ? await deliveryWorkWaiting() : 0;
    const stillOverdue = new Set<string>();
    let brokerRefused = false;
    for (const pending of overdueDeliveries) {
      stillOverdue.add(pending.delivery_id);
      if (brokerRefused) continue;
      const last = redrivenAt.get(pending.delivery_id);
      if (last !== undefined && now - last < graceMs) continue;
      const senderStopped = pending.sender !== null && stoppedSenders.includes(pending.sender);
      if (workWaiting > 0 && !senderStopped && now - new Date(pending.due_at).getTime() < backlogPatienceMs) {
        report.deliveriesLeftToBacklog++;
        continue;
      }
      try {
        await publisher.publishDeliveryWork({ alertId: pending.alert_id, deliveryId: pending.delivery_id });
        redrivenAt.set(pending.delivery_id, now);
        report.deliveriesRedriven++;
        options.redrives?.inc({ kind: 'delivery' });
        logger.warn({ deliveryId: pending.delivery_id, alertId: pending.alert_id, dueAt: pending.due_at }, 'sweeper handed an overdue delivery back to the notifier');
      } catch (error) {
        // A publish fails for the broker's reasons, not the delivery's: the rest of this pass would fail the same way
        // (during a broker restart, one error line per overdue delivery per pass). The next pass tries again.
        brokerRefused = true;
        report.failures++;
        logger.error({ err: error, deliveryId: pending.delivery_id }, 'sweeper could not re-drive overdue deliveries; trying again next pass');
      }
    }
    for (const deliveryId of redrivenAt.keys()) if (!stillOverdue.has(deliveryId)) redrivenAt.delete(deliveryId);
    if (report.deliveriesLeftToBacklog > 0) {
      logger.info(
        { overdue: report.deliveriesLeftToBacklog, workWaiting },
        "overdue deliveries left to the notifier's backlog; handed back if still overdue later",
      );
    }

    if (options.summarizeQuietRepeats) {
      try {
        report.repeatsSummarized = await options.summarizeQuietRepeats(clock());
      } catch (error) {
        report.failures++;
        logger.error({ err: error }, 'sweeper could not summarize counted alert repeats');
      }
    }
    return report;
  }

  async function deliveryWorkWaiting(): Promise<number> {
    try {
      return (await publisher.deliveryWorkWaiting?.()) ?? 0;
    } catch (error) {
      logger.warn({ err: error }, "could not read the depth of the notifier's queue; handing overdue deliveries back");
      return 0;
    }
  }

  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> | null = null;
  const firstPasses = [...(options.firstPassesMs ?? [])];
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = sweep()
        .catch((error: unknown) => logger.error({ err: error }, 'sweep failed'))
        .finally(() => {
          running = null;
          schedule();
        });
    }, Math.min(options.intervalMs, firstPasses.shift() ?? options.intervalMs));
  };
  schedule();

  return {
    sweep,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
