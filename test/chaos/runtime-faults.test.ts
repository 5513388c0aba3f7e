import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signUpWithTeam, type TeamOwner } from '../support/accounts.js';
import type { HttpClient } from '../support/app.js';
import { brokerRestartsAvailable } from '../support/broker-control.js';
import { createTestDatabase, type TestDatabase, uniqueName } from '../support/database.js';
import { waitFor } from '../support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import {
  deleteBrokerPrefix,
  restartBroker,
  type ServiceProcess,
  ServiceCluster,
  serviceEnvironment,
  terminateDatabaseConnections,
} from './cluster.js';

describe.skipIf(!brokerRestartsAvailable())('one service process rides out runtime faults without being restarted', () => {
  const amqpPrefix = uniqueName('alertops_faults').toLowerCase();
  let receiver: WebhookReceiver;
  let database: TestDatabase;
  let cluster: ServiceCluster;
  let service: ServiceProcess;
  let http: HttpClient;
  let owner: TeamOwner;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    database = await createTestDatabase({ migrate: false });
    cluster = new ServiceCluster(serviceEnvironment({ databaseUrl: database.url, amqpPrefix }));
    service = await cluster.start();
    http = service.http!;
    owner = await signUpWithTeam(http, 'Faults');
  });

  afterAll(async () => {
    await cluster?.stopAll();
    console.log(`service logs: ${cluster?.logDirectory}`);
    await deleteBrokerPrefix(inject('amqpUrl'), amqpPrefix).catch(() => undefined);
    await database?.drop();
    await receiver?.stop();
  });

  const pagesTo = (path: string) => receiver.requests.filter((request) => request.path === `/${path}`);
  const hook = (path: string, delaySeconds: number) => ({
    name: path,
    delaySeconds,
    target: { type: 'webhook', url: `${receiver.url}/${path}` },
    retry: { maxAttempts: 5, backoffSeconds: 0.5 },
  });

  async function createFlow(nodes: unknown[]): Promise<string> {
    const response = await http.post(`/teams/${owner.teamId}/flows`, { name: `flow ${uniqueName('f')}`, nodes }, { token: owner.token });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body.id;
  }

  async function trigger(flowId: string, summary: string): Promise<string> {
    const response = await http.post(`/teams/${owner.teamId}/alerts`, { flowId, summary }, { token: owner.token });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body.id;
  }

  const readiness = async () => (await http.get('/readyz')).status;

  function expectStillTheSameProcess(): void {
    expect(service.exit, cluster.tail(service)).toBeNull();
    expect(cluster.unexpectedExits()).toEqual([]);
  }

  it('pages before any fault', async () => {
    const flowId = await createFlow([hook('baseline-first', 0), hook('baseline-second', 1)]);
    await trigger(flowId, 'baseline');
    await waitFor('both baseline pages', () => pagesTo('baseline-first').length === 1 && pagesTo('baseline-second').length === 1);
  });

  it('survives a broker restart: not ready while the broker is away, then timers, consumers and publishing resume', async () => {
    const inCascadeFlow = await createFlow([hook('restart-in-cascade', 5)]);
    const duringFlow = await createFlow([hook('restart-during-first', 0), hook('restart-during-second', 1)]);
    await trigger(inCascadeFlow, 'timer in the cascade across the restart');

    let readinessWhileDown = 0;
    const { downMs } = await restartBroker({
      down: async () => {
        readinessWhileDown = await waitFor('/readyz to answer 503', async () => ((await readiness()) === 503 ? 503 : undefined), {
          timeoutMs: 15_000,
        });
        // The API keeps taking alerts while the broker is away; the relay publishes them once it is back.
        await trigger(duringFlow, 'triggered while the broker is stopped');
      },
    });
    expect(readinessWhileDown).toBe(503);
    await waitFor('/readyz to answer 200 again', async () => (await readiness()) === 200, { timeoutMs: 60_000, intervalMs: 200 });
    console.log(`broker was stopped for ${downMs} ms`);

    await waitFor('the timer that was in the cascade to page', () => pagesTo('restart-in-cascade').length === 1, { timeoutMs: 60_000 });
    await waitFor('the alert triggered during the outage to page both steps', () =>
      pagesTo('restart-during-first').length === 1 && pagesTo('restart-during-second').length === 1, { timeoutMs: 60_000 });

    const afterFlow = await createFlow([hook('restart-after-first', 0), hook('restart-after-second', 1)]);
    await trigger(afterFlow, 'triggered after the restart');
    await waitFor('the alert triggered after the restart to page both steps', () =>
      pagesTo('restart-after-first').length === 1 && pagesTo('restart-after-second').length === 1, { timeoutMs: 20_000 });
    expect(pagesTo('restart-in-cascade')).toHaveLength(1);
    expectStillTheSameProcess();
  });

  it('survives the termination of all its database connections, twice, with work in flight', async () => {
    const flowId = await createFlow([hook('db-first', 0), hook('db-second', 1.5)]);
    const inFlightAlert = await trigger(flowId, 'in flight while the database drops its connections');
    const firstCut = await terminateDatabaseConnections(database.url);
    expect(firstCut).toBeGreaterThan(0);
    await waitFor('/readyz to answer 200 after the first cut', async () => (await readiness()) === 200, { timeoutMs: 30_000, intervalMs: 200 });
    await waitFor('the in-flight alert to page both steps', () => pagesTo('db-first').length === 1 && pagesTo('db-second').length === 1, {
      timeoutMs: 30_000,
    });

    const secondCut = await terminateDatabaseConnections(database.url);
    expect(secondCut).toBeGreaterThan(0);
    console.log(`terminated ${firstCut} and ${secondCut} database connections`);
    await waitFor('/readyz to answer 200 after the second cut', async () => (await readiness()) === 200, { timeoutMs: 30_000, intervalMs: 200 });

    const afterFlow = await createFlow([hook('db-after-first', 0), hook('db-after-second', 1)]);
    const afterAlert = await trigger(afterFlow, 'triggered after the database came back');
    await waitFor('the alert triggered afterwards to page both steps', () =>
      pagesTo('db-after-first').length === 1 && pagesTo('db-after-second').length === 1, { timeoutMs: 20_000 });

    // The read models kept projecting: both alerts show every notification delivered.
    for (const alertId of [inFlightAlert, afterAlert]) {
      await waitFor(`alert ${alertId} to show its notifications delivered`, async () => {
        const detail = await http.get(`/teams/${owner.teamId}/alerts/${alertId}`, { token: owner.token });
        const notifications = detail.body.notifications as { status: string }[];
        return notifications.length === 2 && notifications.every((notification) => notification.status === 'delivered');
      });
    }
    expect(pagesTo('db-first')).toHaveLength(1);
    expect(pagesTo('db-second')).toHaveLength(1);
    expectStillTheSameProcess();
  });
});
