import { type RawBuilder, sql } from 'kysely';
import type { FlowEvent } from '../domain/flow/events.js';
import { defineProjection } from './projection.js';
import type { FlowsTable, IntegrationKeysTable } from './read-models.js';

const json = (value: unknown) => JSON.stringify(value);

/** Where node `anchorId` sits, doubled so that a node placed right after it can take the odd place in between. */
const placeAfter = (anchorId: string | null) =>
  sql`coalesce((select anchor.ordinality * 2 from jsonb_array_elements(flows.nodes) with ordinality as anchor(node, ordinality)
                where anchor.node->>'id' = ${anchorId}), 0) + 1`;

/** Rebuilds the node array from (node, place) rows, in place order. */
const nodesOrderedBy = (entries: RawBuilder<unknown>) =>
  sql<string>`(select coalesce(jsonb_agg(entry.node order by entry.place), '[]'::jsonb) from (${entries}) as entry(node, place))`;

const existingNodes = sql`select existing.node, existing.ordinality * 2 from jsonb_array_elements(flows.nodes) with ordinality as existing(node, ordinality)`;

/**
 * Flows with their ordered nodes, and the integration keys of each flow (looked up by key hash).
 * Every flow event moves `version` to its stream revision + 1, guarded by `version < new`, so a replayed
 * batch is harmless and the row's version always equals the version If-Match compares against.
 */
export const flowsProjection = defineProjection<{ flows: FlowsTable; integration_keys: IntegrationKeysTable }, FlowEvent>({
  name: 'flows',
  tables: ['flows', 'integration_keys'],
  handles: new Set([
    'FlowCreated', 'FlowRenamed', 'FlowRepeatChanged', 'FlowNodeAdded', 'FlowNodeUpdated', 'FlowNodeMoved', 'FlowNodeRemoved',
    'IntegrationKeyCreated', 'IntegrationKeyRevoked',
  ]),
  project(db, event) {
    const version = event.streamVersion + 1;
    const updated_at = event.recordedAt;
    const updateFlow = (flowId: string, values: { name?: string; repeat?: number; nodes?: RawBuilder<string> }) =>
      db.updateTable('flows').set({ ...values, version, updated_at }).where('id', '=', flowId).where('version', '<', version).compile();
    switch (event.type) {
      case 'FlowCreated': {
        const e = event.data;
        return [
          db
            .insertInto('flows')
            .values({
              id: e.flowId, team_id: e.teamId, name: e.name, version, repeat: e.repeat, nodes: json(e.nodes),
              created_at: new Date(e.createdAt), updated_at,
            })
            .onConflict((conflict) => conflict.column('id').doNothing())
            .compile(),
        ];
      }
      case 'FlowRenamed':
        return [updateFlow(event.data.flowId, { name: event.data.name })];
      case 'FlowRepeatChanged':
        return [updateFlow(event.data.flowId, { repeat: event.data.repeat })];
      case 'FlowNodeAdded': {
        const { node, after } = event.data;
        return [
          updateFlow(event.data.flowId, {
            nodes: nodesOrderedBy(sql`${existingNodes} union all select ${json(node)}::jsonb, ${placeAfter(after)}`),
          }),
        ];
      }
      case 'FlowNodeUpdated': {
        const { nodeId, node } = event.data;
        return [
          updateFlow(event.data.flowId, {
            nodes: nodesOrderedBy(
              sql`select case when existing.node->>'id' = ${nodeId} then ${json(node)}::jsonb else existing.node end, existing.ordinality
                  from jsonb_array_elements(flows.nodes) with ordinality as existing(node, ordinality)`,
            ),
          }),
        ];
      }
      case 'FlowNodeMoved': {
        const { nodeId, after } = event.data;
        return [
          updateFlow(event.data.flowId, {
            nodes: nodesOrderedBy(
              sql`${existingNodes} where existing.node->>'id' <> ${nodeId}
                  union all
                  select moved.node, ${placeAfter(after)} from jsonb_array_elements(flows.nodes) as moved(node) where moved.node->>'id' = ${nodeId}`,
            ),
          }),
        ];
      }
      case 'FlowNodeRemoved':
        return [
          updateFlow(event.data.flowId, {
            nodes: nodesOrderedBy(sql`${existingNodes} where existing.node->>'id' <> ${event.data.nodeId}`),
          }),
        ];
      case 'IntegrationKeyCreated': {
        const e = event.data;
        return [
          db
            .insertInto('integration_keys')
            .values({ id: e.keyId, key_hash: e.keyHash, team_id: e.teamId, flow_id: e.flowId, created_at: new Date(e.createdAt) })
            .onConflict((conflict) => conflict.column('id').doNothing())
            .compile(),
          updateFlow(e.flowId, {}),
        ];
      }
      case 'IntegrationKeyRevoked':
        return [
          db
            .updateTable('integration_keys')
            .set({ revoked_at: new Date(event.data.revokedAt) })
            .where('id', '=', event.data.keyId)
            .where('revoked_at', 'is', null)
            .compile(),
          updateFlow(event.data.flowId, {}),
        ];
      default:
        return [];
    }
  },
});
