import type { Server } from 'node:http';
import { AccessTokens } from './api/auth/access-token.js';
import { TriggerQuota } from './api/trigger-quota.js';
import { answerUnparseableRequests, createApi } from './api/app.js';
import { routes } from './api/routes/index.js';
import type { ApiServices } from './api/services.js';
import { createCatalog } from './catalog.js';
import { StreamStateCache } from './commands/handle-command.js';
import type { Config } from './config.js';
import { InMemoryEventStore } from './eventstore/memory.js';
import { PostgresEventStore } from './eventstore/postgres.js';
import { type EventStore, EventStoreUnavailableError } from './eventstore/types.js';
import { BrokerConnection } from './infra/amqp.js';
import { createKysely } from './infra/kysely.js';
import { createLogger, type Logger } from './infra/logger.js';
import { createMailer } from './infra/mailer.js';
import { createMetrics } from './infra/metrics.js';
import { startTracing } from './infra/tracing.js';
import { tracedEventStore } from './eventstore/traced.js';
import { queueDepths } from './infra/delay-cascade.js';
import { subscriptionLag } from './projections/status.js';
import { ESCALATION_RELAY } from './workers/escalation-relay.js';
import { SenderLiveness } from './infra/sender-liveness.js';
import { assertSchemaCurrent, migrate } from './infra/migrate.js';
import { createPool, ensureDatabaseExists, type Pool, redactUrl } from './infra/postgres.js';
import { readModelProjections } from './projections/index.js';
import { readModelDirectory } from './workers/channels/directory.js';
import { createNotificationChannels } from './workers/channels/index.js';
import { startEscalationWorkers } from './workers/index.js';
import { brokerNames } from './infra/broker-messages.js';
import { eventSourcedAttempts, startNotifier } from './workers/notifier.js';
import { startSubscriptionWorkers } from './workers/subscriptions.js';
import { ProjectionProgress } from './projections/progress.js';
import { READ_MODELS, readModelSubscription } from './projections/read-model-subscription.js';
import { SubscriptionRunner } from './projections/runner.js';
import type { ReadModels } from './projections/read-models.js';

export interface RuntimeOptions {
  config: Config;
  /** Serve the HTTP API. */
  api: boolean;
  /** Run projections and the escalation workers. */
  workers: boolean;
  /** Apply migrations first (npm start does; split roles may leave it to `alertops migrate`). */
  migrate: boolean;
  logger?: Logger;
}

export interface Runtime {
  services: ApiServices;
  broker: BrokerConnection;
  server: Server | null;
  runners: SubscriptionRunner[];
  url: string | null;
  stop(): Promise<void>;
}

export class StartupError extends Error {
  override name = 'StartupError';
}

/** The event store the configuration names (PostgreSQL by default), once it has answered: an unreachable one stops start-up. */
export async function openEventStore(config: Pick<Config, 'eventStore' | 'esdbUrl'>, pool: Pool, logger: Logger): Promise<EventStore> {
  const eventStore = await createEventStore(config, pool, logger);
  try {
    await eventStore.checkHealth();
    return eventStore;
  } catch (error) {
    await eventStore.close().catch(() => undefined);
    if (error instanceof EventStoreUnavailableError) throw new StartupError(error.message);
    throw new StartupError(`the event store (EVENT_STORE=${config.eventStore}) failed its start-up check: ${(error as Error).message}`);
  }
}

async function createEventStore(config: Pick<Config, 'eventStore' | 'esdbUrl'>, pool: Pool, logger: Logger): Promise<EventStore> {
  switch (config.eventStore) {
    case 'postgres':
      return new PostgresEventStore(pool);
    case 'memory':
      return new InMemoryEventStore();
    case 'esdb': {
      // Loaded only here: the EventStoreDB client and gRPC are a good part of a process's start-up otherwise.
      const { EventStoreDbEventStore } = await import('./eventstore/esdb.js');
      try {
        return EventStoreDbEventStore.connect(config.esdbUrl!, { logger });
      } catch (error) {
        throw new StartupError(`cannot use ESDB_URL ${redactUrl(config.esdbUrl!)}: ${(error as Error).message}`);
      }
    }
  }
}

/**
 * Read models and checkpoints stay in PostgreSQL when the log is kept in memory: a database whose subscriptions have
 * already read a log would skip the new one's first events, so an empty log needs a database that has seen none.
 */
async function assertCheckpointsFitAnEmptyLog(pool: Pool): Promise<void> {
  const { rows } = await pool.query<{ name: string }>(
    `select subscription_name as name from subscription_checkpoints where global_position > 0 order by subscription_name limit 1`,
  );
  if (rows[0]) {
    throw new StartupError(
      `EVENT_STORE=memory starts with an empty log, but subscription ${rows[0].name} of this database has read another one: use a fresh database`,
    );
  }
}

/** Whether a dependency answers; what went wrong goes to the debug log, never to the answer. */
function availability(check: Promise<unknown>, dependency: string, logger: Logger): Promise<'ok' | 'unavailable'> {
  return check.then(
    () => 'ok' as const,
    (error: Error) => {
      logger.debug({ err: error }, `readiness: ${dependency} is unavailable`);
      return 'unavailable' as const;
    },
  );
}

/** Builds and starts one AlertOps process. Any broken dependency or configuration fails here, loudly. */
export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.logLevel);
  for (const { setting, warning } of config.relaxedSettings) logger.warn({ setting }, warning);

  try {
    await ensureDatabaseExists(config.databaseUrl);
  } catch (error) {
    throw new StartupError(`cannot reach PostgreSQL at ${redactUrl(config.databaseUrl)}: ${(error as Error).message}`);
  }
  const stopTracing = await startTracing(config.tracing, logger);
  const pool = createPool(config.databaseUrl, { max: 20 });
  const stops: (() => Promise<unknown>)[] = [stopTracing, () => pool.end()];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((error: unknown) => logger.warn({ err: error }, 'shutdown step failed'));
  };

  try {
    if (options.migrate) {
      const { applied } = await migrate(pool);
      if (applied.length) logger.info({ applied }, 'database migrated');
    } else {
      await assertSchemaCurrent(pool);
    }

    if (config.eventStore === 'memory') await assertCheckpointsFitAnEmptyLog(pool);
    const openedStore = await openEventStore(config, pool, logger);
    const eventStore = config.tracing ? tracedEventStore(openedStore) : openedStore;
    stops.push(() => eventStore.close());

    const broker = new BrokerConnection(config.amqpUrl, logger);
    await broker.start();
    stops.push(() => broker.close());

    const catalog = createCatalog();
    const metrics = createMetrics(
      {
        subscriptionLag: () => subscriptionLag({ pool, eventStore }, [READ_MODELS, ESCALATION_RELAY], new Date()),
        queueDepths: () => queueDepths(broker.current(), brokerNames(config.amqpPrefix), config.amqpPrefix),
      },
      (error) => logger.debug({ err: error }, 'metrics: a scrape source is unavailable'),
    );
    const progress = new ProjectionProgress(pool, config.databaseUrl, [READ_MODELS]);
    stops.push(() => progress.close());
    const mailer = createMailer(config);
    if (mailer) stops.push(async () => mailer.close());

    const services: ApiServices = {
      config,
      logger,
      pool,
      db: createKysely<ReadModels>(pool),
      eventStore,
      catalog,
      streamCache: new StreamStateCache(),
      progress,
      metrics,
      accessTokens: new AccessTokens(config.jwtSecret, config.accessTokenTtlSeconds),
      triggerQuota: new TriggerQuota(pool, config.quotas),
      mailer,
      clock: () => new Date(),
      // The answer names the dependency, never its error text (host names, users, database names); the log has that.
      readiness: async () => {
        const [postgres, log] = await Promise.all([
          availability(pool.query('select 1'), 'PostgreSQL', logger),
          availability(eventStore.checkHealth(), 'the event store', logger),
        ]);
        const checks: Record<string, 'ok' | 'unavailable'> = { postgres, rabbitmq: broker.connected ? 'ok' : 'unavailable' };
        // The PostgreSQL store is the database checked above; EventStoreDB is a dependency of its own; memory has none.
        if (eventStore.dependency) checks[eventStore.dependency] = checks[eventStore.dependency] === 'unavailable' ? 'unavailable' : log;
        return checks;
      },
    };

    let listeningUrl: string | null = null;
    const publicUrl = () => config.publicUrl ?? listeningUrl ?? `http://127.0.0.1:${config.port}`;

    const runners: SubscriptionRunner[] = [];
    if (options.workers) {
      runners.push(
        new SubscriptionRunner(readModelSubscription(readModelProjections), { databaseUrl: config.databaseUrl, eventStore, catalog, logger }),
      );
      for (const runner of runners) runner.start();
      stops.push(() => Promise.all(runners.map((runner) => runner.stop())));

      const liveness = new SenderLiveness(pool, config.databaseUrl, logger);
      await liveness.start();
      stops.push(() => liveness.close());
      const escalation = await startEscalationWorkers(services, broker, { stoppedSenders: () => liveness.stoppedSenders() });
      stops.push(() => escalation.stop());
      const notifier = await startNotifier({
        broker,
        names: brokerNames(config.amqpPrefix),
        attempts: eventSourcedAttempts(services, metrics.pages),
        channels: createNotificationChannels(config, readModelDirectory(services.db), mailer, publicUrl, services.clock),
        logger,
        metrics,
        liveness,
        deferral: { publisher: escalation.publisher },
        clock: services.clock,
      });
      stops.push(() => notifier.stop());
      const subscriptions = await startSubscriptionWorkers(services, broker, escalation.publisher, readModelDirectory(services.db));
      stops.push(() => subscriptions.stop());
    }

    let server: Server | null = null;
    let url: string | null = null;
    if (options.api) {
      const app = createApi(services, routes);
      server = await new Promise<Server>((resolve, reject) => {
        const listening = app.listen(config.port, '0.0.0.0', () => resolve(listening)).once('error', (error: Error) =>
          reject(new StartupError(`cannot listen on port ${config.port}: ${error.message}`)),
        );
      });
      const address = server.address();
      url = typeof address === 'object' && address ? `http://127.0.0.1:${address.port}` : null;
      listeningUrl = url;
      const listening = server;
      answerUnparseableRequests(listening);
      stops.push(() => new Promise((resolve) => listening.close(resolve)));
      logger.info({ url }, 'AlertOps API listening');
    }

    return { services, broker, server, runners, url, stop: stopAll };
  } catch (error) {
    // Start-up failed: release what was started, but never let a part that will not stop keep the failure from
    // being reported (the process exits on it).
    let giveUp: NodeJS.Timeout | undefined;
    await Promise.race([stopAll(), new Promise((resolve) => (giveUp = setTimeout(resolve, STARTUP_CLEANUP_MS)))]);
    clearTimeout(giveUp);
    throw error;
  }
}

const STARTUP_CLEANUP_MS = 5000;
