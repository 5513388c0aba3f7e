import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Config } from '../config.js';
import { DomainError, invalid } from '../domain/decider.js';
import type { FlowCommand, TeamMemberIds } from '../domain/flow/commands.js';
import { flowDecider } from '../domain/flow/decider.js';
import { flowStreamId } from '../domain/flow/identity.js';
import { DEFAULT_RETRY, type FlowNode, type FlowNodeInput, type NodeTarget } from '../domain/flow/node.js';
import type { Actor, LogPosition } from '../eventstore/types.js';
import { membersAmong } from '../projections/queries/teams.js';
import type { ReadModels } from '../projections/read-models.js';
import { webhookTargetRefusal } from '../infra/network-guard.js';
import { aggregateStream, type CommandDependencies, commandHandler, StaleVersionError } from './handle-command.js';

const handleFlow = commandHandler(flowDecider, flowStreamId, (flow) => (flow.status === 'none' ? null : flow.teamId));

/**
 * Flow commands also read current team membership (a `user` target must be a member when it is set) and the
 * networks webhook targets may be on.
 */
export interface FlowCommandDependencies extends CommandDependencies {
  db: Kysely<ReadModels>;
  config: Pick<Config, 'webhookAllowPrivate' | 'webhookAllowLoopback' | 'flowLimits'>;
}

/** A flow as the event log has it now. Versions are 1-based: stream revision + 1, bumped by every change. */
export interface LoadedFlow {
  flowId: string;
  teamId: string;
  name: string;
  version: number;
  repeat: number;
  nodes: FlowNode[];
  ackTimeoutMinutes: number | null;
}

export interface FlowChange {
  /** The flow version after the command; unchanged when the command changed nothing. */
  version: number;
  changed: boolean;
  position: LogPosition | null;
}

interface EditInput {
  teamId: string;
  flowId: string;
  actor: Actor;
  /** The version the caller last saw (If-Match); a newer flow refuses the edit with StaleVersionError. */
  expectedVersion?: number;
}

/** The flow from its own stream (authoritative, never the read model); null when it does not exist. */
export async function loadFlow(deps: CommandDependencies, flowId: string): Promise<LoadedFlow | null> {
  const { state, revision } = await aggregateStream(deps, flowDecider, flowStreamId(flowId));
  if (state.status === 'none') return null;
  return {
    flowId: state.flowId, teamId: state.teamId, name: state.name, version: revision + 1, repeat: state.repeat, nodes: state.nodes,
    ackTimeoutMinutes: state.ackTimeoutMinutes,
  };
}

export function toFlowNode(input: FlowNodeInput, id: string): FlowNode {
  return { id, name: input.name, delaySeconds: input.delaySeconds, target: input.target, retry: input.retry ?? DEFAULT_RETRY };
}

export async function createFlow(
  deps: FlowCommandDependencies,
  input: { teamId: string; name: string; repeat: number; ackTimeoutMinutes?: number | null; nodes: FlowNodeInput[]; actor: Actor; now: Date },
): Promise<{ flowId: string; version: number; position: LogPosition | null }> {
  const flowId = randomUUID();
  const nodes = input.nodes.map((node) => toFlowNode(node, randomUUID()));
  await assertTargetsAllowed(deps, input.teamId, nodes.map((node) => node.target));
  const result = await handleFlow(
    deps,
    flowId,
    {
      type: 'CreateFlow',
      flowId,
      teamId: input.teamId,
      name: input.name,
      repeat: input.repeat,
      nodes,
      ackTimeoutMinutes: input.ackTimeoutMinutes ?? null,
      teamMemberIds: await teamMembersAmong(deps, input.teamId, nodes.map((node) => node.target)),
      now: input.now,
      limits: deps.config.flowLimits,
    },
    { actor: input.actor },
  );
  return { flowId, version: result.revision + 1, position: result.position };
}

export async function changeFlowSettings(
  deps: FlowCommandDependencies,
  input: EditInput & { name?: string; repeat?: number; ackTimeoutMinutes?: number | null },
): Promise<FlowChange> {
  return editFlow(deps, input, {
    type: 'ChangeFlowSettings',
    teamId: input.teamId,
    name: input.name,
    repeat: input.repeat,
    ackTimeoutMinutes: input.ackTimeoutMinutes,
    limits: deps.config.flowLimits,
  });
}

/** `after` omitted: append at the end; null: first. The node id is made here, stable for the node's life. */
export async function addFlowNode(
  deps: FlowCommandDependencies,
  input: EditInput & { node: FlowNodeInput; after?: string | null },
): Promise<FlowChange & { nodeId: string }> {
  const node = toFlowNode(input.node, randomUUID());
  await assertTargetsAllowed(deps, input.teamId, [node.target]);
  const change = await editFlow(deps, input, {
    type: 'AddFlowNode',
    teamId: input.teamId,
    node,
    ...(input.after === undefined ? {} : { after: input.after }),
    teamMemberIds: await teamMembersAmong(deps, input.teamId, [node.target]),
    limits: deps.config.flowLimits,
  });
  return { ...change, nodeId: node.id };
}

export async function updateFlowNode(
  deps: FlowCommandDependencies,
  input: EditInput & { nodeId: string; changes: Partial<FlowNodeInput> },
): Promise<FlowChange> {
  if (input.changes.target) await assertTargetsAllowed(deps, input.teamId, [input.changes.target]);
  return editFlow(deps, input, {
    type: 'UpdateFlowNode',
    teamId: input.teamId,
    nodeId: input.nodeId,
    changes: input.changes,
    teamMemberIds: await teamMembersAmong(deps, input.teamId, input.changes.target ? [input.changes.target] : []),
    limits: deps.config.flowLimits,
  });
}

export async function moveFlowNode(deps: FlowCommandDependencies, input: EditInput & { nodeId: string; after: string | null }): Promise<FlowChange> {
  return editFlow(deps, input, { type: 'MoveFlowNode', teamId: input.teamId, nodeId: input.nodeId, after: input.after });
}

export async function removeFlowNode(deps: FlowCommandDependencies, input: EditInput & { nodeId: string }): Promise<FlowChange> {
  return editFlow(deps, input, { type: 'RemoveFlowNode', teamId: input.teamId, nodeId: input.nodeId });
}

/** Integration keys are bearer secrets in a URL: only their sha256 is stored; look a presented key up by this hash. */
export function hashIntegrationKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Makes a random key for the flow; the key itself is returned here once and never stored. */
export async function createIntegrationKey(
  deps: FlowCommandDependencies,
  input: EditInput & { now: Date },
): Promise<FlowChange & { keyId: string; key: string }> {
  const keyId = randomUUID();
  const key = `aok_${randomBytes(32).toString('base64url')}`;
  const change = await editFlow(deps, input, { type: 'CreateIntegrationKey', teamId: input.teamId, keyId, keyHash: hashIntegrationKey(key), now: input.now });
  return { ...change, keyId, key };
}

export async function revokeIntegrationKey(deps: FlowCommandDependencies, input: EditInput & { keyId: string; now: Date }): Promise<FlowChange> {
  return editFlow(deps, input, { type: 'RevokeIntegrationKey', teamId: input.teamId, keyId: input.keyId, now: input.now });
}

async function editFlow(deps: FlowCommandDependencies, input: EditInput, command: FlowCommand): Promise<FlowChange> {
  try {
    const result = await handleFlow(deps, input.flowId, command, {
      actor: input.actor,
      ...(input.expectedVersion === undefined ? {} : { expectedRevision: input.expectedVersion - 1 }),
    });
    return { version: result.revision + 1, changed: result.events.length > 0, position: result.position };
  } catch (error) {
    // A stale If-Match is checked before the decider runs; it must not reveal that another team's flow exists.
    if (error instanceof StaleVersionError) {
      const flow = await loadFlow(deps, input.flowId);
      if (!flow || flow.teamId !== input.teamId) throw new DomainError('not_found', 'flow not found', 'flow_not_found');
    }
    throw error;
  }
}

/**
 * A webhook on a network this server may not reach (private, link-local, cloud metadata…) is refused as soon as it
 * is set, so the flow's author hears of it now; the check made at every send still decides, since DNS can change.
 * A schedule must be one of the team's.
 */
async function assertTargetsAllowed(deps: FlowCommandDependencies, teamId: string, targets: NodeTarget[]): Promise<void> {
  const policy = { allowPrivate: deps.config.webhookAllowPrivate, allowLoopback: deps.config.webhookAllowLoopback };
  const urls = [...new Set(targets.flatMap((target) => (target.type === 'webhook' ? [target.url] : [])))];
  const refusals = await Promise.all(urls.map((url) => webhookTargetRefusal(url, { policy })));
  const refusal = refusals.find((reason) => reason !== null);
  if (refusal) throw invalid(refusal, 'webhook_target_refused');
  const scheduleIds = [...new Set(targets.flatMap((target) => (target.type === 'schedule' ? [target.scheduleId] : [])))];
  if (scheduleIds.length === 0) return;
  const found = await deps.db.selectFrom('schedules').select('id').where('team_id', '=', teamId).where('id', 'in', scheduleIds).execute();
  const unknown = scheduleIds.find((scheduleId) => !found.some((schedule) => schedule.id === scheduleId));
  if (unknown) throw invalid(`schedule ${unknown} is not one of this team's`, 'unknown_schedule');
}

/** The users among these targets who are members of the team right now. */
function teamMembersAmong(deps: FlowCommandDependencies, teamId: string, targets: NodeTarget[]): Promise<TeamMemberIds> {
  return membersAmong(deps.db, teamId, targets.flatMap((target) => (target.type === 'user' ? [target.userId] : [])));
}
