import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowNode } from '../../src/domain/flow/node.js';
import { incidentAnalyticsProjection } from '../../src/projections/incident-analytics.js';
import type { ProjectedEvent } from '../../src/projections/projection.js';
import { incidentAnalytics } from '../../src/projections/queries/incident-analytics.js';
import type { ReadModels } from '../../src/projections/read-models.js';
import { readModelSubscription } from '../../src/projections/read-model-subscription.js';
import { readModelTransaction } from '../../src/projections/runner.js';
import { createKysely } from '../../src/infra/kysely.js';
import { alertHistory, type HistoryCommand } from '../support/alert-history.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const teamId = '00000000-0000-4000-8000-000000000001';
const otherTeamId = '00000000-0000-4000-8000-000000000002';
const checkout = '00000000-0000-4000-8000-00000000f001';
const billing = '00000000-0000-4000-8000-00000000f002';
const alice = '00000000-0000-4000-8000-0000000a11ce';
const bob = '00000000-0000-4000-8000-000000000b0b';
const t0 = Date.parse('2026-03-01T00:00:00.000Z');
const at = (seconds: number) => new Date(t0 + seconds * 1000);
const id = (n: number) => `00000000-0000-4000-8000-0000000000${String(n).padStart(2, '0')}`;
const delivery = (n: number) => `00000000-0000-4000-8000-00000000d0${String(n).padStart(2, '0')}`;

const retry = { maxAttempts: 1, backoffSeconds: 1 };
const people: FlowNode[] = [
  { id: id(91), name: 'alice', delaySeconds: 0, target: { type: 'user', userId: alice }, retry },
  { id: id(92), name: 'bob', delaySeconds: 60, target: { type: 'user', userId: bob }, retry },
];
const hook: FlowNode[] = [{ id: id(93), name: 'hook', delaySeconds: 0, target: { type: 'webhook', url: 'https://hooks.example.com/billing' }, retry }];

const trigger = (alertId: string, flowId: string, nodes: FlowNode[], seconds: number, team = teamId): HistoryCommand => ({
  type: 'TriggerAlert', alertId, teamId: team, flow: { flowId, version: 1, repeat: 0, nodes }, summary: 's', details: null, severity: 'error', dedupKey: null, source: 'api', now: at(seconds),
});
const fire = (alertId: string, step: number, seconds: number, deliveryId: string, epoch = 0): HistoryCommand => ({
  type: 'FireEscalationStep', alertId, epoch, loop: 0, step, deliveryId, now: at(seconds), rules: {},
});
const acknowledge = (seconds: number, team = teamId): HistoryCommand => ({ type: 'AcknowledgeAlert', teamId: team, by: `user:${alice}`, now: at(seconds) });
const resolve = (seconds: number, team = teamId): HistoryCommand => ({ type: 'ResolveAlert', teamId: team, by: `user:${bob}`, now: at(seconds) });

describe('incident analytics', () => {
  let database: TestDatabase;
  const subscription = readModelSubscription([incidentAnalyticsProjection]);
  const apply = async (events: ProjectedEvent[]) => {
    const client = await database.pool.connect();
    try {
      await client.query('begin');
      await subscription.handleBatch(readModelTransaction(client), events);
      await client.query('commit');
    } finally {
      client.release();
    }
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    const a2 = alertHistory(id(2), teamId, [
      trigger(id(2), checkout, people, 1000),
      fire(id(2), 0, 1000.3, delivery(2)),
      { type: 'StartNotificationAttempt', deliveryId: delivery(2), now: at(1000.4), sender: null, deadSenders: [] },
      // Nobody reached: the next step is due at once (epoch 1).
      { type: 'RecordNotificationOutcome', deliveryId: delivery(2), attempt: 1, outcome: { delivered: false, error: 'no address', permanent: true }, now: at(1000.4) },
      fire(id(2), 1, 1000.5, delivery(3), 1),
      acknowledge(1090),
      resolve(1200),
    ]);
    const batches = [
      alertHistory(id(1), teamId, [trigger(id(1), checkout, people, 0), fire(id(1), 0, 0.1, delivery(1)), acknowledge(30), resolve(600)]),
      // The trigger in one batch, what follows in others: the page's flow comes from the row already written.
      a2.slice(0, 2),
      a2.slice(2, 6),
      a2.slice(6),
      alertHistory(id(3), teamId, [trigger(id(3), checkout, people, 2000), fire(id(3), 0, 2000.2, delivery(4)), acknowledge(2060)]),
      alertHistory(id(4), teamId, [trigger(id(4), checkout, people, 3000), resolve(3300)]),
      alertHistory(id(5), teamId, [trigger(id(5), billing, hook, 100), fire(id(5), 0, 101, delivery(5))]),
      // Before the range, and another team's: neither counts.
      alertHistory(id(6), teamId, [trigger(id(6), checkout, people, -86_400), fire(id(6), 0, -86_399, delivery(6)), acknowledge(-86_000)]),
      alertHistory(id(7), otherTeamId, [trigger(id(7), checkout, people, 10, otherTeamId), fire(id(7), 0, 15, delivery(7)), acknowledge(20, otherTeamId)]),
    ];
    for (const batch of batches) await apply(batch);
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('gives each flow its alerts, mean and p90 times to acknowledge and resolve, pages per person, undelivered pages and lag p99', async () => {
    const analytics = await incidentAnalytics(createKysely<ReadModels>(database.pool), teamId, at(0), at(86_400));
    expect(analytics.more).toBe(false);
    const byFlow = new Map(analytics.flows.map((flow) => [flow.flowId, flow]));
    expect([...byFlow.keys()].sort()).toEqual([checkout, billing].sort());
    const checkoutStats = byFlow.get(checkout)!;
    // Acknowledged after 30, 90 and 60 s: mean 60 s; p90 interpolates 0.8 of the way from 60 s to 90 s.
    expect(checkoutStats.alertsTriggered).toBe(4);
    expect(checkoutStats.timeToAcknowledgeMs).toEqual({ count: 3, mean: 60_000, p90: 84_000 });
    // Resolved after 600, 200 and 300 s.
    expect(checkoutStats.timeToResolveMs.count).toBe(3);
    expect(checkoutStats.timeToResolveMs.mean).toBeCloseTo(1_100_000 / 3, 6);
    expect(checkoutStats.timeToResolveMs.p90).toBeCloseTo(540_000, 6);
    expect(checkoutStats.pages).toBe(4);
    expect(checkoutStats.undeliveredPages).toBe(1);
    expect(checkoutStats.pagesPerPerson).toEqual([
      { userId: alice, name: null, pages: 3 },
      { userId: bob, name: null, pages: 1 },
    ]);
    // Lags 100, 300, 100 and 200 ms: p99 is 0.97 of the way from 200 to 300 ms.
    expect(checkoutStats.escalationLagMs.steps).toBe(4);
    expect(checkoutStats.escalationLagMs.p99).toBeCloseTo(297, 6);

    expect(byFlow.get(billing)).toEqual({
      flowId: billing,
      name: null,
      alertsTriggered: 1,
      timeToAcknowledgeMs: { count: 0, mean: null, p90: null },
      timeToResolveMs: { count: 0, mean: null, p90: null },
      pages: 1,
      undeliveredPages: 0,
      pagesPerPerson: [],
      escalationLagMs: { steps: 1, p99: 1000 },
    });
  });

  it('pages the flows by id', async () => {
    const db = createKysely<ReadModels>(database.pool);
    const first = await incidentAnalytics(db, teamId, at(0), at(86_400), { limit: 1 });
    expect(first.flows.map((flow) => flow.flowId)).toEqual([checkout]);
    expect(first.more).toBe(true);
    const second = await incidentAnalytics(db, teamId, at(0), at(86_400), { limit: 1, after: checkout });
    expect(second.flows.map((flow) => flow.flowId)).toEqual([billing]);
    expect(second.more).toBe(false);
  });

  it('counts nothing outside the range', async () => {
    expect(await incidentAnalytics(createKysely<ReadModels>(database.pool), teamId, at(86_400), at(2 * 86_400))).toEqual({ flows: [], more: false });
    const [early] = (await incidentAnalytics(createKysely<ReadModels>(database.pool), teamId, at(-2 * 86_400), at(0))).flows;
    expect(early).toMatchObject({ flowId: checkout, alertsTriggered: 1, timeToAcknowledgeMs: { count: 1, mean: 400_000 }, pages: 1 });
  });
});
