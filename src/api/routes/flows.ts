import { z } from 'zod';
import {
  addFlowNode,
  changeFlowSettings,
  createFlow,
  createIntegrationKey,
  type FlowChange,
  moveFlowNode,
  removeFlowNode,
  revokeIntegrationKey,
  updateFlowNode,
} from '../../commands/flows.js';
import { FlowAckTimeout, FlowName, FlowRepeat } from '../../domain/flow/events.js';
import { FlowNode, FlowNodeInput } from '../../domain/flow/node.js';
import { Timestamp } from '../../domain/schemas.js';
import type { LogPosition } from '../../eventstore/types.js';
import { webhookTargetsFor } from '../redaction.js';
import { etag } from '../if-match.js';
import { notFoundProblem } from '../problem.js';
import { routeGroup, type RouteResult } from '../routing.js';
import { type EditCaller, versionedEdit, type VersionedEditSpec } from '../versioned-edit.js';
import { FlowKeyParams, FlowParams, NodeParams, TeamParams } from '../schemas.js';

const route = routeGroup({ tag: 'flows' });

const CreateFlowBody = z.strictObject({
  name: FlowName,
  repeat: FlowRepeat.default(0),
  /** Minutes an acknowledgement holds before the alert is triggered again (PagerDuty's acknowledgement timeout). */
  ackTimeoutMinutes: FlowAckTimeout.nullable().optional(),
  nodes: z.array(FlowNodeInput).default([]),
});
const ChangeFlowBody = z.strictObject({ name: FlowName.optional(), repeat: FlowRepeat.optional(), ackTimeoutMinutes: FlowAckTimeout.nullable().optional() });
const AddNodeBody = z.strictObject({ ...FlowNodeInput.shape, after: z.uuid().nullable().optional() });
const UpdateNodeBody = FlowNodeInput.partial();
const MoveNodeBody = z.strictObject({ after: z.uuid().nullable() });

const IdAndVersion = z.object({ id: z.uuid(), version: z.int() });
const FlowSummary = z.object({ id: z.uuid(), name: z.string(), version: z.int(), nodeCount: z.int() });
const FlowDetail = z.object({
  id: z.uuid(),
  name: z.string(),
  version: z.int(),
  repeat: z.int(),
  ackTimeoutMinutes: z.int().nullable(),
  nodes: z.array(FlowNode),
});
const IntegrationKeySummary = z.object({ id: z.uuid(), flowId: z.uuid(), createdAt: Timestamp, revokedAt: Timestamp.nullable() });

/** The answer of a command that changed a flow: its new version is the ETag, for the next If-Match. */
function flowChanged(
  status: number,
  body: unknown,
  change: { version: number; position: LogPosition | null },
  headers: Record<string, string> = {},
): RouteResult {
  return { status, body, headers: { ...etag(change.version), ...headers }, position: change.position };
}


/** Who edits which flow, and the version they last saw: what every edit of an existing flow names. */
interface FlowEdit extends EditCaller {
  teamId: string;
  flowId: string;
}

/** A change to an existing flow (see versionedEdit); integration keys are the flow's too, and take more than the right to edit it. */
function flowEditRoute<Params extends z.infer<typeof FlowParams>, Body = undefined, Change extends FlowChange = FlowChange>(
  method: 'post' | 'patch' | 'delete',
  path: string,
  spec: VersionedEditSpec<Params, Body, FlowEdit, Change> & { permission?: 'integrations:manage' },
) {
  const { permission = 'flows:write', ...edit } = spec;
  const flowOf = (params: Params, caller: EditCaller): FlowEdit => ({ teamId: params.teamId, flowId: params.flowId, ...caller });
  return route(method, path, versionedEdit('flow', permission, flowOf, edit));
}

const createFlowRoute = route('post', '/teams/:teamId/flows', {
  summary: 'Create a flow: ordered escalation nodes and a repeat count',
  permission: { team: 'flows:write', source: 'stream' },
  params: TeamParams,
  body: CreateFlowBody,
  versioned: { resource: 'flow' },
  responses: { 201: IdAndVersion },
  async handler({ params, body, actor, services }) {
    const { name, repeat, ackTimeoutMinutes, nodes } = body;
    const created = await createFlow(services, { teamId: params.teamId, name, repeat, ackTimeoutMinutes, nodes, actor, now: services.clock() });
    const location = `/teams/${params.teamId}/flows/${created.flowId}`;
    return flowChanged(201, { id: created.flowId, version: created.version }, created, { Location: location });
  },
});

const listFlowsRoute = route('get', '/teams/:teamId/flows', {
  summary: "The team's flows, oldest first",
  permission: 'team:read',
  params: TeamParams,
  responses: { 200: z.array(FlowSummary) },
  async handler({ params, services }) {
    const flows = await services.db
      .selectFrom('flows')
      .select(['id', 'name', 'version', 'node_count'])
      .where('team_id', '=', params.teamId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return { status: 200, body: flows.map((flow) => ({ id: flow.id, name: flow.name, version: flow.version, nodeCount: flow.node_count })) };
  },
});

const getFlowRoute = route('get', '/teams/:teamId/flows/:flowId', {
  summary: 'A flow with its nodes in order (viewers see webhook URLs redacted); the ETag is its version, for If-Match on edits',
  permission: 'team:read',
  params: FlowParams,
  versioned: { resource: 'flow' },
  responses: { 200: FlowDetail },
  async handler({ params, role, services }) {
    const flow = await services.db
      .selectFrom('flows')
      .select(['id', 'name', 'version', 'repeat', 'ack_timeout_minutes', 'nodes'])
      .where('id', '=', params.flowId)
      .where('team_id', '=', params.teamId)
      .executeTakeFirst();
    if (!flow) throw notFoundProblem('flow not found');
    const { ack_timeout_minutes: ackTimeoutMinutes, ...definition } = flow;
    return { status: 200, body: webhookTargetsFor(role, { ...definition, ackTimeoutMinutes }), headers: etag(flow.version) };
  },
});

const changeFlowRoute = flowEditRoute('patch', '/teams/:teamId/flows/:flowId', {
  summary: 'Rename a flow, change its repeat count or its acknowledgement timeout (null removes it); honours If-Match',
  params: FlowParams,
  body: ChangeFlowBody,
  command: ({ body, services }, edit) =>
    changeFlowSettings(services, { ...edit, name: body.name, repeat: body.repeat, ackTimeoutMinutes: body.ackTimeoutMinutes }),
  names: ({ flowId }) => flowId,
});

const addNodeRoute = flowEditRoute('post', '/teams/:teamId/flows/:flowId/nodes', {
  summary: 'Add a node after another (`after` omitted: at the end; null: first); honours If-Match',
  params: FlowParams,
  body: AddNodeBody,
  status: 201,
  command: ({ body: { after, ...node }, services }, edit) => addFlowNode(services, { ...edit, node, ...(after === undefined ? {} : { after }) }),
  names: (_, { nodeId }) => nodeId,
});

const updateNodeRoute = flowEditRoute('patch', '/teams/:teamId/flows/:flowId/nodes/:nodeId', {
  summary: "Change a node's name, delay, target or retry policy (honours If-Match)",
  params: NodeParams,
  body: UpdateNodeBody,
  command: ({ params, body, services }, edit) => updateFlowNode(services, { ...edit, nodeId: params.nodeId, changes: body }),
  names: ({ nodeId }) => nodeId,
});

const moveNodeRoute = flowEditRoute('post', '/teams/:teamId/flows/:flowId/nodes/:nodeId/move', {
  summary: 'Move a node after another (null: first); honours If-Match',
  params: NodeParams,
  body: MoveNodeBody,
  command: ({ params, body, services }, edit) => moveFlowNode(services, { ...edit, nodeId: params.nodeId, after: body.after }),
});

const removeNodeRoute = flowEditRoute('delete', '/teams/:teamId/flows/:flowId/nodes/:nodeId', {
  summary: 'Remove a node (honours If-Match); alerts already running keep the steps they were triggered with',
  params: NodeParams,
  command: ({ params, services }, edit) => removeFlowNode(services, { ...edit, nodeId: params.nodeId }),
});

const createKeyRoute = route('post', '/teams/:teamId/flows/:flowId/integration-keys', {
  summary: 'Create an integration key for the flow; the key is in this response only and stored as a hash',
  permission: { team: 'integrations:manage', source: 'stream' },
  // The response carries the key itself: it must not be kept for Idempotency-Key replays.
  replayable: false,
  params: FlowParams,
  versioned: { resource: 'flow', ifMatch: true },
  responses: { 201: z.object({ id: z.uuid(), key: z.string() }) },
  async handler({ params, actor, services, expectedVersion }) {
    const created = await createIntegrationKey(services, { ...params, actor, expectedVersion, now: services.clock() });
    return flowChanged(201, { id: created.keyId, key: created.key }, created, { 'Cache-Control': 'no-store' });
  },
});

const listKeysRoute = route('get', '/teams/:teamId/flows/:flowId/integration-keys', {
  summary: "The flow's integration keys (never the keys themselves)",
  permission: 'team:read',
  params: FlowParams,
  responses: { 200: z.array(IntegrationKeySummary) },
  async handler({ params, services }) {
    const flow = await services.db
      .selectFrom('flows')
      .select('id')
      .where('id', '=', params.flowId)
      .where('team_id', '=', params.teamId)
      .executeTakeFirst();
    if (!flow) throw notFoundProblem('flow not found');
    const keys = await services.db
      .selectFrom('integration_keys')
      .select(['id', 'flow_id', 'created_at', 'revoked_at'])
      .where('flow_id', '=', flow.id)
      .orderBy('created_at')
      .execute();
    return {
      status: 200,
      body: keys.map((key) => ({
        id: key.id,
        flowId: key.flow_id,
        createdAt: key.created_at.toISOString(),
        revokedAt: key.revoked_at?.toISOString() ?? null,
      })),
    };
  },
});

const revokeKeyRoute = flowEditRoute('delete', '/teams/:teamId/flows/:flowId/integration-keys/:keyId', {
  summary: 'Revoke an integration key at once (idempotent)',
  permission: 'integrations:manage',
  params: FlowKeyParams,
  command: ({ params, services }, edit) => revokeIntegrationKey(services, { ...edit, keyId: params.keyId, now: services.clock() }),
});

export const flowRoutes = [
  createFlowRoute,
  listFlowsRoute,
  getFlowRoute,
  changeFlowRoute,
  addNodeRoute,
  updateNodeRoute,
  moveNodeRoute,
  removeNodeRoute,
  createKeyRoute,
  listKeysRoute,
  revokeKeyRoute,
];
