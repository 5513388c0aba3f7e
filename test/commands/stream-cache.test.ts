import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCatalog } from '../../src/catalog.js';
import type { RepeatCountDependencies } from '../../src/commands/alert-repeats.js';
import { actOnAlert, fireEscalationStep, triggerAlert } from '../../src/commands/alerts.js';
import { alertStreamId } from '../../src/domain/alert/identity.js';
import { StreamStateCache } from '../../src/commands/handle-command.js';
import { PostgresEventStore } from '../../src/eventstore/postgres.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

describe('commands deciding from cached stream states', () => {
  let database: TestDatabase;
  let store: PostgresEventStore;
  const catalog = createCatalog();
  const teamId = randomUUID();
  const flow = {
    flowId: randomUUID(),
    version: 1,
    repeat: 0,
    nodes: [0, 1].map((index) => ({
      id: randomUUID(), name: `step ${index}`, delaySeconds: 60, target: { type: 'email' as const, email: 'oncall@example.com' },
      retry: { maxAttempts: 1, backoffSeconds: 0 },
    })),
  };
  /** Two processes: each with its own cache, one log. */
  const processes = () => [0, 1].map((): RepeatCountDependencies => ({ eventStore: store, catalog, pool: database.pool, streamCache: new StreamStateCache() }));
  const trigger = (deps: RepeatCountDependencies) =>
    triggerAlert(deps, { teamId, flow, summary: 'disk full', details: null, severity: 'error', dedupKey: null, source: 'api', actor: 'system:test', now: new Date() });
  const fired = async (alertId: string) =>
    (await store.readStream(alertStreamId(alertId))).filter((event) => event.type === 'EscalationStepFired').length;

  beforeAll(async () => {
    database = await createTestDatabase();
    store = new PostgresEventStore(database.pool);
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('a timer deciding from a state gone stale (the alert was acknowledged elsewhere) fires nothing', async () => {
    const [a, b] = processes();
    const { alertId } = await trigger(a!);
    await actOnAlert(b!, { teamId, alertId, action: 'acknowledge', actor: 'user:someone', now: new Date() });
    // a's cache still has the alert triggered with step 0 pending in epoch 0.
    const result = await fireEscalationStep(a!, { alertId, epoch: 0, loop: 0, step: 0, now: new Date() });
    expect(result.fired).toBe(false);
    expect(await fired(alertId)).toBe(0);
  });

  it('a timer that a stale state would ignore (escalated elsewhere, new epoch) still fires', async () => {
    const [a, b] = processes();
    const { alertId } = await trigger(a!);
    await actOnAlert(b!, { teamId, alertId, action: 'escalate', actor: 'user:someone', now: new Date() });
    // a's cache has epoch 0; the timer of the escalation is for epoch 1.
    const result = await fireEscalationStep(a!, { alertId, epoch: 1, loop: 0, step: 0, now: new Date() });
    expect(result.fired).toBe(true);
    expect(await fired(alertId)).toBe(1);
  });

  it('a fresh cache decides without reading the stream, and a duplicate timer still fires once', async () => {
    const [a] = processes();
    const { alertId } = await trigger(a!);
    const reads: string[] = [];
    const counting: RepeatCountDependencies = {
      ...a!,
      eventStore: Object.assign(Object.create(store) as PostgresEventStore, {
        readStream: (streamId: string, options?: { fromVersion?: number; maxCount?: number }) => {
          reads.push(streamId);
          return store.readStream(streamId, options);
        },
      }),
    };
    expect((await fireEscalationStep(counting, { alertId, epoch: 0, loop: 0, step: 0, now: new Date() })).fired).toBe(true);
    expect(reads).toEqual([]);
    expect((await fireEscalationStep(counting, { alertId, epoch: 0, loop: 0, step: 0, now: new Date() })).fired).toBe(false);
    expect(await fired(alertId)).toBe(1);
  });
});
