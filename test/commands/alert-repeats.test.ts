import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCatalog } from '../../src/catalog.js';
import {
  countedRepeats,
  REPEAT_SUMMARY_INTERVAL_MS,
  type RepeatCountDependencies,
  summarizeQuietRepeats,
} from '../../src/commands/alert-repeats.js';
import { type TriggerAlertInput, triggerAlert } from '../../src/commands/alerts.js';
import { REPEATS_RECORDED_ONE_BY_ONE } from '../../src/domain/alert/decider.js';
import { alertStreamId } from '../../src/domain/alert/identity.js';
import { PostgresEventStore } from '../../src/eventstore/postgres.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

describe('an alert whose dedup key keeps firing', () => {
  let database: TestDatabase;
  let deps: RepeatCountDependencies;
  const teamId = randomUUID();
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const minutes = (count: number) => new Date(t0 + count * 60_000);
  const flow = {
    flowId: randomUUID(),
    version: 1,
    repeat: 0,
    nodes: [{
      id: randomUUID(), name: 'step', delaySeconds: 3600, target: { type: 'email' as const, email: 'oncall@example.com' },
      retry: { maxAttempts: 1, backoffSeconds: 0 },
    }],
  };
  const trigger = (dedupKey: string, now: Date, summary = 'disk full'): ReturnType<typeof triggerAlert> => {
    const input: TriggerAlertInput = { teamId, flow, summary, details: null, severity: 'error', dedupKey, source: 'api', actor: 'system:test', now };
    return triggerAlert(deps, input);
  };
  const repeatEvents = async (alertId: string) =>
    (await deps.eventStore.readStream(alertStreamId(alertId)))
      .filter((event) => event.type === 'AlertDeduplicated')
      .map((event) => (event.data as { dedupCount: number; summary: string }));

  beforeAll(async () => {
    database = await createTestDatabase();
    deps = { eventStore: new PostgresEventStore(database.pool), catalog: createCatalog(), pool: database.pool };
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('records the first repeats one by one and counts the rest without growing the stream', async () => {
    const { alertId } = await trigger('db1-disk', minutes(0));
    for (let repeat = 1; repeat <= 60; repeat++) {
      const result = await trigger('db1-disk', new Date(t0 + repeat * 1000));
      expect(result).toMatchObject({ alertId, deduplicated: true });
    }
    expect((await repeatEvents(alertId)).map((event) => event.dedupCount)).toEqual([1, 2, 3, 4, 5]);
    expect(REPEATS_RECORDED_ONE_BY_ONE).toBe(5);
    expect((await countedRepeats(database.pool, [alertId])).get(alertId)).toBe(60);
  });

  it('concurrent repeats are each counted once', async () => {
    const { alertId } = await trigger('db2-disk', minutes(0));
    await Promise.all(Array.from({ length: 30 }, (_, index) => trigger('db2-disk', new Date(t0 + 1000 + index))));
    const recorded = (await repeatEvents(alertId)).at(-1)!.dedupCount;
    expect(recorded).toBe(5);
    expect((await countedRepeats(database.pool, [alertId])).get(alertId)).toBe(30);
  });

  it('a repeat after the summary interval appends one summary with the count so far and the latest summary text', async () => {
    const { alertId } = await trigger('db3-disk', minutes(0));
    for (let repeat = 1; repeat <= 20; repeat++) await trigger('db3-disk', new Date(t0 + repeat * 1000));
    const later = new Date(t0 + 20_000 + REPEAT_SUMMARY_INTERVAL_MS);
    await trigger('db3-disk', later, 'disk still full');
    await trigger('db3-disk', new Date(later.getTime() + 1000), 'disk still full');
    const events = await repeatEvents(alertId);
    expect(events.map((event) => event.dedupCount)).toEqual([1, 2, 3, 4, 5, 21]);
    expect(events.at(-1)!.summary).toBe('disk still full');
    expect((await countedRepeats(database.pool, [alertId])).get(alertId)).toBe(22);
  });

  it('a key gone quiet gets its count summarized by the periodic pass, and the count row is forgotten afterwards', async () => {
    const { alertId } = await trigger('db4-disk', minutes(0));
    for (let repeat = 1; repeat <= 12; repeat++) await trigger('db4-disk', new Date(t0 + repeat * 1000));
    expect(await summarizeQuietRepeats(deps, minutes(1))).toBe(0);
    expect(await summarizeQuietRepeats(deps, minutes(6))).toBeGreaterThanOrEqual(1);
    expect((await repeatEvents(alertId)).at(-1)!.dedupCount).toBe(12);
    expect((await countedRepeats(database.pool, [alertId])).has(alertId)).toBe(false);
    await summarizeQuietRepeats(deps, minutes(12));
    const { rows } = await database.pool.query('select 1 from alert_repeat_counts where alert_id = $1', [alertId]);
    expect(rows).toHaveLength(0);
    // A repeat after the row is gone counts on from the stream's count.
    await trigger('db4-disk', minutes(13));
    expect((await countedRepeats(database.pool, [alertId])).get(alertId)).toBe(13);
  });
});
