import type { Context } from 'koa';
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
import { FlowName, FlowRepeat } from '../../domain/flow/events.js';
import { FlowNode, FlowNodeInput } from '../../domain/flow/node.js';
import { Timestamp } from '../../domain/schemas.js';
import { webhookTargetsFor } from '../redaction.js';
import { badRequest, notFoundProblem } from '../problem.js';
import { routeGroup, type RouteResult } from '../routing.js';
import { FlowKeyParams, FlowParams, NodeParams, TeamParams } from '../schemas.js';

const route = routeGroup({ tag: 'flows' });

const CreateFlowBody = z.strictObject({
  name: FlowName,
  repeat: FlowRepeat.default(0),
  nodes: z.array(FlowNodeInput).default([]),
});
const ChangeFlowBody = z.strictObject({ name: FlowName.optional(), repeat: FlowRepeat.optional() });
const AddNodeBody = z.strictObject({ ...FlowNodeInput.shape, after: z.uuid().nullable().optional() });
const UpdateNodeBody = FlowNodeInput.partial();
const MoveNodeBody = z.strictObject({ after: z.uuid().nullable() });

const Version = z.object({ version: z.int() });
const IdAndVersion = z.object({ id: z.uuid(), version: z.int() });
const FlowSummary = z.object({ id: z.uuid(), name: z.string(), version: z.int(), nodeCount: z.int() });
const FlowDetail = z.object({ id: z.uuid(), name: z.string(), version: z.int(), repeat: z.int(), nodes: z.array(FlowNode) });
const IntegrationKeySummary = z.object({ id: z.uuid(), flowId: z.uuid(), createdAt: Timestamp, revokedAt: Timestamp.nullable() });

const etag = (version: number) => ({ ETag: `"${version}"` });

/**
 * The flow version the client last saw, from `If-Match: "3"` (or `3`); undefined without the header or for `*`.
 * Versions are strong validators, so a weak tag can never match.
 */
function ifMatchVersion(ctx: Context): number | undefined {
  const header = ctx.get('if-match').trim();
  if (header === '' || header === '*') return undefined;
  const match = /^(?:"(\d{1,9})"|(\d{1,9}))$/.exec(header);
  if (!match) throw badRequest('If-Match must name one flow version, as in the ETag: "3"', { code: 'invalid_if_match' });
  const version = Number(match[1] ?? match[2]);
  if (version < 1) throw badRequest('flow versions start at 1', { code: 'invalid_if_match' });
  return version;
}

function changed(change: FlowChange, status: number, body: Record<string, unknown>): RouteResult {
  return { status, body: { ...body, version: change.version }, headers: etag(change.version), position: change.position };
}

const createFlowRoute = route('post', '/teams/:teamId/flows', {
  summary: 'Create a flow: ordered escalation nodes and a repeat count',
  permission: { team: 'flows:write', source: 'stream' },
  params: TeamParams,
  body: CreateFlowBody,
  responses: { 201: IdAndVersion },
  async handler({ params, body, actor, services }) {
    const created = await createFlow(services, {
      teamId: params.teamId,
      name: body.name,
      repeat: body.repeat,
      nodes: body.nodes,
      actor,
      now: services.clock(),
    });
    return {
      status: 201,
      body: { id: created.flowId, version: created.version },
      headers: { ...etag(created.version), Location: `/teams/${params.teamId}/flows/${created.flowId}` },
      position: created.position,
    };
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
  responses: { 200: FlowDetail },
  async handler({ params, role, services }) {
    const flow = await services.db
      .selectFrom('flows')
      .select(['id', 'name', 'version', 'repeat', 'nodes'])
      .where('id', '=', params.flowId)
      .where('team_id', '=', params.teamId)
      .executeTakeFirst();
    if (!flow) throw notFoundProblem('flow not found');
    return { status: 200, body: webhookTargetsFor(role, flow), headers: etag(flow.version) };
  },
});

const changeFlowRoute = route('patch', '/teams/:teamId/flows/:flowId', {
  summary: 'Rename a flow or change its repeat count (honours If-Match)',
  permission: { team: 'flows:write', source: 'stream' },
  params: FlowParams,
  body: ChangeFlowBody,
  responses: { 200: IdAndVersion },
  async handler({ params, body, actor, services, ctx }) {
    const change = await changeFlowSettings(services, {
      teamId: params.teamId,
      flowId: params.flowId,
      name: body.name,
      repeat: body.repeat,
      actor,
      expectedVersion: ifMatchVersion(ctx),
    });
    return changed(change, 200, { id: params.flowId });
  },
});

const addNodeRoute = route('post', '/teams/:teamId/flows/:flowId/nodes', {
  summary: 'Add a node after another (`after` omitted: at the end; null: first); honours If-Match',
  permission: { team: 'flows:write', source: 'stream' },
  params: FlowParams,
  body: AddNodeBody,
  responses: { 201: IdAndVersion },
  async handler({ params, body, actor, services, ctx }) {
    const { after, ...node } = body;
    const change = await addFlowNode(services, {
      teamId: params.teamId,
      flowId: params.flowId,
      node,
      ...(after === undefined ? {} : { after }),
      actor,
      expectedVersion: ifMatchVersion(ctx),
    });
    return changed(change, 201, { id: change.nodeId });
  },
});

const updateNodeRoute = route('patch', '/teams/:teamId/flows/:flowId/nodes/:nodeId', {
  summary: "Change a node's name, delay, target or retry policy (honours If-Match)",
  permission: { team: 'flows:write', source: 'stream' },
  params: NodeParams,
  body: UpdateNodeBody,
  responses: { 200: IdAndVersion },
  async handler({ params, body, actor, services, ctx }) {
    const change = await updateFlowNode(services, {
      teamId: params.teamId,
      flowId: params.flowId,
      nodeId: params.nodeId,
      changes: body,
      actor,
      expectedVersion: ifMatchVersion(ctx),
    });
    return changed(change, 200, { id: params.nodeId });
  },
});

const moveNodeRoute = route('post', '/teams/:teamId/flows/:flowId/nodes/:nodeId/move', {
  summary: 'Move a node after another (null: first); honours If-Match',
  permission: { team: 'flows:write', source: 'stream' },
  params: NodeParams,
  body: MoveNodeBody,
  responses: { 200: Version },
  async handler({ params, body, actor, services, ctx }) {
    const change = await moveFlowNode(services, {
      teamId: params.teamId,
      flowId: params.flowId,
      nodeId: params.nodeId,
      after: body.after,
      actor,
      expectedVersion: ifMatchVersion(ctx),
    });
    return changed(change, 200, {});
  },
});

const removeNodeRoute = route('delete', '/teams/:teamId/flows/:flowId/nodes/:nodeId', {
  summary: 'Remove a node (honours If-Match); alerts already running keep the steps they were triggered with',
  permission: { team: 'flows:write', source: 'stream' },
  params: NodeParams,
  responses: { 200: Version },
  async handler({ params, actor, services, ctx }) {
    const change = await removeFlowNode(services, {
      teamId: params.teamId,
      flowId: params.flowId,
      nodeId: params.nodeId,
      actor,
      expectedVersion: ifMatchVersion(ctx),
    });
    return changed(change, 200, {});
  },
});

const createKeyRoute = route('post', '/teams/:teamId/flows/:flowId/integration-keys', {
  summary: 'Create an integration key for the flow; the key is in this response only and stored as a hash',
  permission: { team: 'integrations:manage', source: 'stream' },
  // The response carries the key itself: it must not be kept for Idempotency-Key replays.
  replayable: false,
  params: FlowParams,
  responses: { 201: z.object({ id: z.uuid(), key: z.string() }) },
  async handler({ params, actor, services, ctx }) {
    const created = await createIntegrationKey(services, {
      teamId: params.teamId,
      flowId: params.flowId,
      actor,
      expectedVersion: ifMatchVersion(ctx),
      now: services.clock(),
    });
    return {
      status: 201,
      body: { id: created.keyId, key: created.key },
      headers: { ...etag(created.version), 'Cache-Control': 'no-store' },
      position: created.position,
    };
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

const revokeKeyRoute = route('delete', '/teams/:teamId/flows/:flowId/integration-keys/:keyId', {
  summary: 'Revoke an integration key at once (idempotent)',
  permission: { team: 'integrations:manage', source: 'stream' },
  params: FlowKeyParams,
  responses: { 200: Version },
  async handler({ params, actor, services, ctx }) {
    const change = await revokeIntegrationKey(services, {
      teamId: params.teamId,
      flowId: params.flowId,
      keyId: params.keyId,
      actor,
      expectedVersion: ifMatchVersion(ctx),
      now: services.clock(),
    });
    return changed(change, 200, {});
  },
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
