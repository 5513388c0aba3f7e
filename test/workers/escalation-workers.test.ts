import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCatalog } from '../../src/catalog.js';
import { triggerAlert } from '../../src/commands/alerts.js';
import type { AlertEventOf } from '../../src/domain/alert/events.js';
import type { FlowNode } from '../../src/domain/flow/node.js';
import { PostgresEventStore } from '../../src/eventstore/postgres.js';
import { BrokerConnection } from '../../src/infra/amqp.js';
import { DELAY_LEVELS, deleteDelayCascade, TopologyError } from '../../src/infra/delay-cascade.js';
import { createKysely } from '../../src/infra/kysely.js';
import { createLogger } from '../../src/infra/logger.js';
import { createMetrics } from '../../src/infra/metrics.js';
import { inFlightProjection } from '../../src/projections/alerts.js';
import type { ReadModels } from '../../src/projections/read-models.js';
import { readModelSubscription } from '../../src/projections/read-model-subscription.js';
import { SubscriptionRunner } from '../../src/projections/runner.js';
import { type EscalationWorkers, startEscalationWorkers } from '../../src/workers/index.js';
import { brokerNames } from '../../src/infra/broker-messages.js';
import { createTestDatabase, type TestDatabase, uniqueName } from '../support/database.js';
import { waitFor } from '../support/wait.js';

describe('escalation workers with the real engine', () => {
  const prefix = uniqueName('alertops_test').toLowerCase();
  const names = brokerNames(prefix);
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const catalog = createCatalog();
  const metrics = createMetrics();
  let database: TestDatabase;
  let eventStore: PostgresEventStore;
  let broker: BrokerConnection;
  let inFlight: SubscriptionRunner;
  let workers: EscalationWorkers | undefined;

  const node = (delaySeconds: number): FlowNode => ({
    id: randomUUID(), name: `after ${delaySeconds}s`, delaySeconds, target: { type: 'email', email: 'oncall@example.com' }, retry: { maxAttempts: 1, backoffSeconds: 1 },
  });
  const trigger = (nodes: FlowNode[]) =>
    triggerAlert({ eventStore, catalog, pool: database.pool }, {
      teamId: randomUUID(), flow: { flowId: randomUUID(), version: 1, repeat: 0, nodes }, summary: 'disk full', details: null,
      severity: 'critical', dedupKey: null, source: 'test', actor: 'system:test', now: new Date(),
    });
  const firedSteps = async (alertId: string) =>
    (await eventStore.readStream(`alert-${alertId}`))
      .filter((event) => event.type === 'EscalationStepFired')
      .map((event) => catalog.parse<AlertEventOf<'EscalationStepFired'>>(event).data);

  beforeAll(async () => {
    database = await createTestDatabase();
    eventStore = new PostgresEventStore(database.pool);
    broker = new BrokerConnection(inject('amqpUrl'), logger);
    await broker.start();
    inFlight = new SubscriptionRunner(readModelSubscription([inFlightProjection], { name: 'in-flight' }), { databaseUrl: database.url, eventStore, catalog, logger, idlePollMs: 100 });
    inFlight.start();
    workers = await startEscalationWorkers(
      {
        config: { databaseUrl: database.url, amqpPrefix: prefix, sweeperIntervalSeconds: 0.25, sweeperGraceSeconds: 1 },
        logger, eventStore, catalog, pool: database.pool, db: createKysely<ReadModels>(database.pool), metrics, clock: () => new Date(),
      },
      broker,
    );
  });
  afterAll(async () => {
    await workers?.stop();
    await inFlight?.stop();
    if (broker?.connected) await deleteDelayCascade(broker.current(), names);
    await broker?.close();
    await database?.drop();
  });

  it("fires an alert's steps on time: relay, cascade, timer consumer and fenced engine together", async () => {
    const { alertId } = await trigger([node(0.5), node(1.5)]);

    const fired = await waitFor('both steps to fire', async () => ((await firedSteps(alertId)).length === 2 ? firedSteps(alertId) : false), { timeoutMs: 10_000 });
    console.log('engine step lag (ms):', fired.map((step) => step.lagMs).join(', '));
    expect(fired.map((step) => step.step)).toEqual([0, 1]);
    for (const step of fired) {
      expect(step.lagMs).toBeGreaterThanOrEqual(0);
      expect(step.lagMs).toBeLessThanOrEqual(250);
    }
    const lagObservations = (await metrics.escalationLag.get()).values.filter((value) => value.metricName === 'alertops_escalation_lag_seconds_count');
    const byStep = Object.fromEntries(lagObservations.map((value) => [value.labels.step, value.value]));
    expect(byStep['0']).toBeGreaterThanOrEqual(1);
    expect(byStep['1']).toBeGreaterThanOrEqual(1);
  });

  it('a purged cascade only delays a step: the sweeper fires it once it is overdue beyond the grace period', async () => {
    const { alertId } = await trigger([node(2.5)]);
    const channel = await broker.current().createChannel();
    try {
      // 2.5 s is held as 2 s, in the level-1 queue.
      await waitFor('the timer to enter the cascade', async () => (await channel.checkQueue(names.delayLevelQueue(1))).messageCount === 1);
      for (let level = 0; level < DELAY_LEVELS; level++) await channel.purgeQueue(names.delayLevelQueue(level));
    } finally {
      await channel.close();
    }

    const [fired] = await waitFor('the sweeper to fire the step', async () => ((await firedSteps(alertId)).length === 1 ? firedSteps(alertId) : false), { timeoutMs: 10_000 });
    expect(fired!.lagMs).toBeGreaterThanOrEqual(1000);
    expect(fired!.lagMs).toBeLessThan(3000);
  });

  it('refuses to start on a broker whose existing queues conflict with the cascade', async () => {
    const otherPrefix = uniqueName('alertops_test').toLowerCase();
    const otherNames = brokerNames(otherPrefix);
    const otherBroker = new BrokerConnection(inject('amqpUrl'), logger);
    await otherBroker.start();
    try {
      const channel = await otherBroker.current().createChannel();
      await channel.assertQueue(otherNames.timersDueQueue, { durable: true });
      await channel.close();
      const failure = await startEscalationWorkers(
        {
          config: { databaseUrl: database.url, amqpPrefix: otherPrefix, sweeperIntervalSeconds: 10, sweeperGraceSeconds: 30 },
          logger, eventStore, catalog, pool: database.pool, db: createKysely<ReadModels>(database.pool), metrics, clock: () => new Date(),
        },
        otherBroker,
      ).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(TopologyError);
      expect((failure as Error).message).toMatch(/inequivalent arg 'x-queue-type'/);
    } finally {
      await deleteDelayCascade(otherBroker.current(), otherNames);
      await otherBroker.close();
    }
  });
});
