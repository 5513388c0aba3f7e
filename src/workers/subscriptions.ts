import type { Config } from '../config.js';
import type { EventCatalog } from '../eventstore/catalog.js';
import type { EventStore } from '../eventstore/types.js';
import type { BrokerConnection } from '../infra/amqp.js';
import { brokerNames } from '../infra/broker-messages.js';
import type { EscalationPublisher } from '../infra/delay-cascade.js';
import type { Logger } from '../infra/logger.js';
import type { Pool } from '../infra/postgres.js';
import { SubscriptionRunner } from '../projections/runner.js';
import type { RecipientDirectory } from './channels/channel.js';
import { teamSigningSecrets } from './channels/index.js';
import { startSubscriptionSender, type SubscriptionSenderOptions, sweepSubscriptionLines } from './subscription-sender.js';
import { subscriptionReactor } from './subscription-reactor.js';

export interface SubscriptionWorkerServices {
  config: Pick<Config, 'databaseUrl' | 'amqpPrefix' | 'sweeperIntervalSeconds' | 'sweeperGraceSeconds' | 'webhookTimeoutMs' | 'webhookAllowPrivate' | 'webhookAllowLoopback' | 'webhookSigningKey'>;
  eventStore: EventStore;
  catalog: EventCatalog;
  pool: Pool;
  logger: Logger;
  clock: () => Date;
}

/** Lifecycle webhooks: the reactor that writes deliveries from the log, and the sender that sends them. */
export async function startSubscriptionWorkers(
  services: SubscriptionWorkerServices,
  broker: BrokerConnection,
  publisher: EscalationPublisher,
  directory: Pick<RecipientDirectory, 'webhookSecretGenerationOf'>,
  options: Pick<SubscriptionSenderOptions, 'retry' | 'fairness'> = {},
): Promise<{ reactor: SubscriptionRunner; stop(): Promise<void> }> {
  const { config, logger } = services;
  const reactor = new SubscriptionRunner(subscriptionReactor({ eventStore: services.eventStore, catalog: services.catalog, publisher }), {
    databaseUrl: config.databaseUrl,
    eventStore: services.eventStore,
    catalog: services.catalog,
    logger,
  });
  const sender = await startSubscriptionSender({
    broker,
    names: brokerNames(config.amqpPrefix),
    pool: services.pool,
    publisher,
    signingSecretsOf: teamSigningSecrets(config, directory),
    policy: { allowPrivate: config.webhookAllowPrivate, allowLoopback: config.webhookAllowLoopback },
    timeoutMs: config.webhookTimeoutMs,
    logger,
    clock: services.clock,
    ...options,
  });
  reactor.start();

  // The backstop for lost work, as the sweeper is for pages: soon after start-up, then every interval.
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> | null = null;
  const firstPasses = [2000];
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = sweepSubscriptionLines(services.pool, publisher, services.clock(), config.sweeperGraceSeconds * 1000)
        .then((handedBack) => {
          if (handedBack > 0) logger.warn({ lines: handedBack }, 'handed overdue lifecycle webhook lines back to the sender');
        })
        .catch((error: unknown) => logger.error({ err: error }, 'lifecycle webhook sweep failed'))
        .finally(() => {
          running = null;
          schedule();
        });
    }, Math.min(config.sweeperIntervalSeconds * 1000, firstPasses.shift() ?? Infinity));
  };
  schedule();

  return {
    reactor,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      await reactor.stop();
      await sender.stop();
    },
  };
}
