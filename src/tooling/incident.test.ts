import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fireEscalationStep, triggerAlert } from '../commands/alerts.js';
import { createCatalog } from '../catalog.js';
import { PostgresEventStore } from '../eventstore/postgres.js';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { waitFor } from '../../test/support/wait.js';
import { incidentEvents, stateAsOf, timeline } from './incident.js';

describe('incident replay', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('replays an alert to the state it had at a given moment', async () => {
    const deps = { eventStore: new PostgresEventStore(database.pool), catalog: createCatalog(), pool: database.pool };
    const node = { id: crypto.randomUUID(), name: 'ops', delaySeconds: 0, target: { type: 'email' as const, email: 'ops@example.com' }, retry: { maxAttempts: 1, backoffSeconds: 1 } };
    const { alertId } = await triggerAlert(deps, {
      teamId: crypto.randomUUID(),
      flow: { flowId: crypto.randomUUID(), version: 1, repeat: 0, nodes: [node, { ...node, id: crypto.randomUUID(), delaySeconds: 60 }] },
      summary: 'db down', details: null, severity: 'critical', dedupKey: null, source: 'test', actor: 'system:test', now: new Date(),
    });
    const beforeFire = await incidentEvents(deps.eventStore, alertId);
    const triggeredAt = beforeFire.at(-1)!.recordedAt;
    // Recorded times have millisecond resolution: fire in a later millisecond so "as of" can tell them apart.
    await waitFor('the clock to pass the trigger time', () => Date.now() > triggeredAt.getTime() + 1);
    await fireEscalationStep(deps, { alertId, epoch: 0, loop: 0, step: 0, now: new Date() });

    const events = await incidentEvents(deps.eventStore, alertId);
    expect(timeline(events, deps.catalog).map((line) => line.type)).toEqual([
      'AlertTriggered', 'EscalationStepScheduled', 'EscalationStepFired', 'NotificationRequested', 'EscalationStepScheduled',
    ]);
    const early = await stateAsOf(deps, alertId, triggeredAt);
    expect(early.applied).toBe(2);
    expect(early.state.status === 'triggered' && early.state.pending?.step).toBe(0);
    const late = await stateAsOf(deps, alertId, new Date(Date.now() + 1000));
    expect(late.state.status === 'triggered' && late.state.pending?.step).toBe(1);
  });
});
