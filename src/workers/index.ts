import type { Kysely } from 'kysely';
import { fireEscalationStep, retriggerAlert } from '../commands/alerts.js';
import { type RepeatCountDependencies, summarizeQuietRepeats } from '../commands/alert-repeats.js';
import type { Config } from '../config.js';
import type { BrokerConnection } from '../infra/amqp.js';
import { declareDelayCascade, EscalationPublisher } from '../infra/delay-cascade.js';
import type { Logger } from '../infra/logger.js';
import type { Metrics } from '../infra/metrics.js';
import type { ReadModels } from '../projections/read-models.js';
import { SubscriptionRunner } from '../projections/runner.js';
import { escalationRelay } from './escalation-relay.js';
import { maintenanceReactor } from './maintenance-reactor.js';
import { brokerNames } from '../infra/broker-messages.js';
import { type Sweeper, startSweeper } from './sweeper.js';
import { type FireEscalationStep, type RetriggerAlert, startTimerConsumer } from './timer-consumer.js';

export interface EscalationWorkerServices extends RepeatCountDependencies {
  config: Pick<Config, 'databaseUrl' | 'amqpPrefix' | 'sweeperIntervalSeconds' | 'sweeperGraceSeconds'>;
  logger: Logger;
  db: Kysely<ReadModels>;
  metrics: Pick<Metrics, 'escalationLag' | 'escalationTimers'> & Partial<Pick<Metrics, 'sweeperRedrives'>>;
  clock: () => Date;
}

export interface EscalationWorkers {
  /** Confirmed publishing of timers and delivery work on this process's broker connection. */
  publisher: EscalationPublisher;
  /** The relay's subscription runner (for status reporting next to the projections). */
  relay: SubscriptionRunner;
  sweeper: Sweeper;
  stop(): Promise<void>;
}

/**
 * Starts the escalation engine's moving parts on a started BrokerConnection: declares and verifies the delay
 * cascade (throws TopologyError when the broker cannot provide it), then the relay from the log to the
 * broker, the consumer of due timers, and the sweeper. Every broker-side part re-attaches after a reconnect.
 */
export async function startEscalationWorkers(
  services: EscalationWorkerServices,
  broker: BrokerConnection,
  options: { fire?: FireEscalationStep; stoppedSenders?: () => readonly string[] } = {},
): Promise<EscalationWorkers> {
  const { config, logger } = services;
  const names = brokerNames(config.amqpPrefix);
  const fire = options.fire ?? ((input) => fireEscalationStep(services, input));
  const retrigger: RetriggerAlert = (input) => retriggerAlert(services, input);
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((error: unknown) => logger.warn({ err: error }, 'escalation worker shutdown step failed'));
  };

  try {
    await broker.register('delay-cascade', (connection) => declareDelayCascade(connection, names));

    const publisher = new EscalationPublisher(names, logger);
    await broker.register('escalation-publisher', publisher.attach);
    stops.push(() => publisher.close());

    const consumer = await startTimerConsumer({
      broker,
      names,
      publisher,
      fire,
      retrigger,
      logger,
      escalationLag: services.metrics.escalationLag,
      escalationTimers: services.metrics.escalationTimers,
      clock: services.clock,
    });
    stops.push(() => consumer.stop());

    const relay = new SubscriptionRunner(escalationRelay(publisher), {
      databaseUrl: config.databaseUrl,
      eventStore: services.eventStore,
      catalog: services.catalog,
      logger,
    });
    relay.start();
    stops.push(() => relay.stop());

    const maintenance = new SubscriptionRunner(maintenanceReactor(services, services.clock), {
      databaseUrl: config.databaseUrl,
      eventStore: services.eventStore,
      catalog: services.catalog,
      logger,
    });
    maintenance.start();
    stops.push(() => maintenance.stop());

    const sweeper = startSweeper({
      db: services.db,
      fire,
      retrigger,
      publisher,
      logger,
      intervalMs: config.sweeperIntervalSeconds * 1000,
      graceMs: config.sweeperGraceSeconds * 1000,
      escalationLag: services.metrics.escalationLag,
      redrives: services.metrics.sweeperRedrives,
      stoppedSenders: options.stoppedSenders,
      summarizeQuietRepeats: (now) => summarizeQuietRepeats(services, now),
      // Soon after start-up, once the read models have caught up: a restarted process resolves what its predecessor
      // left behind within seconds rather than an interval.
      firstPassesMs: [1000, 2000],
      clock: services.clock,
    });
    stops.push(() => sweeper.stop());

    return { publisher, relay, sweeper, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
