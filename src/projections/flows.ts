import type { Selectable } from 'kysely';
import { nodesAfter } from '../domain/flow/decider.js';
import type { FlowEvent } from '../domain/flow/events.js';
import { defineProjection, type ProjectedEvent, type ReadModelViews } from './projection.js';
import type { FlowsTable, IntegrationKeysTable } from './read-models.js';

type FlowTables = { flows: Omit<Selectable<FlowsTable>, 'node_count'>; integration_keys: Selectable<IntegrationKeysTable> };
type Views = ReadModelViews<FlowTables, { flows: ['id']; integration_keys: ['id'] }>;

/** Every flow event moves `version` to its stream revision + 1: the version If-Match compares against. */
function touchFlow({ flows }: Views, event: ProjectedEvent<FlowEvent>, flowId: string, change: Partial<FlowTables['flows']> = {}) {
  flows.update({ id: flowId }, { ...change, version: event.streamVersion + 1, updated_at: event.recordedAt });
}

function editNodes(readModel: Views, event: ProjectedEvent<Parameters<typeof nodesAfter>[1]>) {
  const flow = readModel.flows.get({ id: event.data.flowId });
  if (flow) touchFlow(readModel, event, flow.id, { nodes: nodesAfter(flow.nodes, event) });
}

/** Flows with their ordered nodes, and the integration keys of each flow (looked up by key hash). */
export const flowsProjection = defineProjection<FlowTables, FlowEvent>()({
  name: 'flows',
  keys: { flows: ['id'], integration_keys: ['id'] },
  handlers: {
    FlowCreated({ flows }, { data: e, streamVersion, recordedAt }) {
      flows.put({
        id: e.flowId, team_id: e.teamId, name: e.name, version: streamVersion + 1, repeat: e.repeat, nodes: e.nodes,
        ack_timeout_minutes: e.ackTimeoutMinutes ?? null,
        created_at: new Date(e.createdAt), updated_at: recordedAt,
      });
    },
    FlowRenamed: (readModel, event) => touchFlow(readModel, event, event.data.flowId, { name: event.data.name }),
    FlowRepeatChanged: (readModel, event) => touchFlow(readModel, event, event.data.flowId, { repeat: event.data.repeat }),
    FlowAckTimeoutChanged: (readModel, event) =>
      touchFlow(readModel, event, event.data.flowId, { ack_timeout_minutes: event.data.ackTimeoutMinutes }),
    FlowNodeAdded: editNodes,
    FlowNodeUpdated: editNodes,
    FlowNodeMoved: editNodes,
    FlowNodeRemoved: editNodes,
    IntegrationKeyCreated(readModel, event) {
      const e = event.data;
      readModel.integration_keys.put({
        id: e.keyId, key_hash: e.keyHash, team_id: e.teamId, flow_id: e.flowId, created_at: new Date(e.createdAt), revoked_at: null,
      });
      touchFlow(readModel, event, e.flowId);
    },
    IntegrationKeyRevoked(readModel, event) {
      const key = readModel.integration_keys.get({ id: event.data.keyId });
      if (key && key.revoked_at === null) readModel.integration_keys.update({ id: key.id }, { revoked_at: new Date(event.data.revokedAt) });
      touchFlow(readModel, event, event.data.flowId);
    },
  },
});
