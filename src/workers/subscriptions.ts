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
import { startSubscriptionSender, type SubscriptionSenderOptions } from './subscription-sender.js';
import { subscriptionReactor } from './subscription-reactor.js';

export interface SubscriptionWorkerServices {
  config: Pick<Config, 'databaseUrl' | 'amqpPrefix' | 'webhookTimeoutMs' | 'webhookAllowPrivate' | 'webhookAllowLoopback' | 'webhookSigningKey'>;
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
  return {
    reactor,
    async stop() {
      await reactor.stop();
      await sender.stop();
    },
  };
}
