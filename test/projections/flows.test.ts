import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError, fold } from '../../src/domain/decider.js';
import type { FlowCommand } from '../../src/domain/flow/commands.js';
import { flowDecider } from '../../src/domain/flow/decider.js';
import type { FlowEvent } from '../../src/domain/flow/events.js';
import { DEFAULT_RETRY, type FlowNode } from '../../src/domain/flow/node.js';
import { flowsProjection } from '../../src/projections/flows.js';
import type { ProjectedEvent } from '../../src/projections/projection.js';
import { readModelSubscription } from '../../src/projections/read-model-subscription.js';
import { readModelTransaction } from '../../src/projections/runner.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const teamId = '00000000-0000-4000-8000-000000000001';
const t0 = new Date('2026-01-01T00:00:00.000Z');
const uuid = (prefix: string, n: number) => `00000000-0000-4000-8000-${prefix}${String(n).padStart(12 - prefix.length, '0')}`;

/** A small deterministic PRNG (mulberry32), so a failing sequence can be replayed exactly. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs commands through the decider and returns the events as the log would hold them (stream versions, times). */
function history(flowId: string, commands: FlowCommand[]): ProjectedEvent<FlowEvent>[] {
  const events: FlowEvent[] = [];
  for (const command of commands) {
    try {
      events.push(...flowDecider.decide(command, fold(flowDecider, events)));
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
    }
  }
  return events.map((event, index) => ({
    ...event,
    streamId: `flow-${flowId}`,
    streamVersion: index,
    eventId: uuid('e', index),
    metadata: { actor: 'user:test', correlationId: uuid('c', 0), causationId: null, teamId, prevHash: null, hash: 'h' },
    recordedAt: new Date(t0.getTime() + index * 1000),
    position: { transactionId: BigInt(index + 1), globalPosition: BigInt(index + 1) },
  })) as ProjectedEvent<FlowEvent>[];
}

describe('flows projection', () => {
  let database: TestDatabase;
  const subscription = readModelSubscription([flowsProjection]);
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
  const row = async (flowId: string) =>
    (await database.pool.query('select name, version, repeat, nodes, node_count from flows where id = $1', [flowId])).rows[0];

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('keeps the same node order as the decider through a long random sequence of adds, moves, updates and removals', async () => {
    const flowId = uuid('f', 1);
    const next = random(20260101);
    const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
    const ids: string[] = [];
    const node = (n: number): FlowNode => ({
      id: uuid('a', n),
      name: `step ${n}`,
      delaySeconds: n,
      target: { type: 'email', email: `p${n}@example.com` },
      retry: DEFAULT_RETRY,
    });
    const commands: FlowCommand[] = [
      { type: 'CreateFlow', flowId, teamId, name: 'random', repeat: 0, nodes: [node(0), node(1)], teamMemberIds: [], now: t0 },
    ];
    ids.push(uuid('a', 0), uuid('a', 1));
    for (let n = 2; n < 300; n++) {
      const anchor = next() < 0.2 ? null : pick(ids);
      switch (pick(['add', 'add', 'move', 'move', 'update', 'remove'] as const)) {
        case 'add':
          commands.push({ type: 'AddFlowNode', teamId, node: node(n), ...(next() < 0.3 ? {} : { after: anchor }), teamMemberIds: [] });
          ids.push(uuid('a', n));
          break;
        case 'move':
          commands.push({ type: 'MoveFlowNode', teamId, nodeId: pick(ids), after: anchor });
          break;
        case 'update':
          commands.push({ type: 'UpdateFlowNode', teamId, nodeId: pick(ids), changes: { delaySeconds: n * 2 }, teamMemberIds: [] });
          break;
        case 'remove':
          commands.push({ type: 'RemoveFlowNode', teamId, nodeId: pick(ids) });
          break;
      }
    }
    const events = history(flowId, commands);
    expect(events.filter((event) => event.type === 'FlowNodeMoved').length).toBeGreaterThan(20);
    expect(events.filter((event) => event.type === 'FlowNodeRemoved').length).toBeGreaterThan(10);

    for (let start = 0; start < events.length; start += 37) await apply(events.slice(start, start + 37));

    const expected = fold(flowDecider, events);
    if (expected.status === 'none') throw new Error('the flow was not created');
    const projected = await row(flowId);
    expect(projected.nodes).toEqual(expected.nodes);
    expect(projected.node_count).toBe(expected.nodes.length);
    expect(projected.version).toBe(events.length);
  });

  it('replaying a batch that was already applied changes nothing', async () => {
    const flowId = uuid('f', 2);
    const node = (n: number): FlowNode => ({ id: uuid('b', n), name: `n${n}`, delaySeconds: 0, target: { type: 'webhook', url: 'https://example.com/h' }, retry: DEFAULT_RETRY });
    const events = history(flowId, [
      { type: 'CreateFlow', flowId, teamId, name: 'replayed', repeat: 1, nodes: [node(1), node(2)], teamMemberIds: [], now: t0 },
      { type: 'AddFlowNode', teamId, node: node(3), after: null, teamMemberIds: [] },
      { type: 'MoveFlowNode', teamId, nodeId: node(1).id, after: node(2).id },
      { type: 'RemoveFlowNode', teamId, nodeId: node(2).id },
      { type: 'ChangeFlowSettings', teamId, name: 'renamed', repeat: 2 },
      { type: 'CreateIntegrationKey', teamId, keyId: uuid('c', 1), keyHash: 'b'.repeat(64), now: t0 },
      { type: 'RevokeIntegrationKey', teamId, keyId: uuid('c', 1), now: new Date(t0.getTime() + 5000) },
    ]);
    expect(events).toHaveLength(8);
    await apply(events);
    const once = await row(flowId);
    await apply(events);
    await apply(events.slice(3));
    expect(await row(flowId)).toEqual(once);
    expect(once).toEqual({
      name: 'renamed',
      version: 8,
      repeat: 2,
      nodes: [node(3), node(1)],
      node_count: 2,
    });
    const keys = await database.pool.query('select flow_id, team_id, key_hash, revoked_at from integration_keys where id = $1', [uuid('c', 1)]);
    expect(keys.rows).toEqual([{ flow_id: flowId, team_id: teamId, key_hash: 'b'.repeat(64), revoked_at: new Date(t0.getTime() + 5000) }]);
  });
});
