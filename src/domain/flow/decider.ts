import { isDeepStrictEqual } from 'node:util';
import { conflict, type Decider, DomainError, invalid } from '../decider.js';
import type { FlowCommand, FlowLimits, TeamMemberIds } from './commands.js';
import { type FlowEvent, MAX_ACK_TIMEOUT_MINUTES, MAX_FLOW_NODES, MAX_FLOW_REPEAT } from './events.js';
import type { FlowNode, NodeTarget, RetryPolicy } from './node.js';

export interface FlowDefinition {
  flowId: string;
  teamId: string;
  name: string;
  repeat: number;
  nodes: FlowNode[];
  ackTimeoutMinutes: number | null;
  integrationKeys: Record<string, { revoked: boolean }>;
}

export type FlowState = { status: 'none' } | ({ status: 'created' } & FlowDefinition);
export type CreatedFlowState = Extract<FlowState, { status: 'created' }>;

const flowNotFound = () => new DomainError('not_found', 'flow not found', 'flow_not_found');
const nodeNotFound = (nodeId: string) => new DomainError('not_found', `node ${nodeId} is not a node of this flow`, 'node_not_found');

/** Another team's flow does not exist for the caller. */
function requireTeamFlow(state: FlowState, teamId: string): CreatedFlowState {
  if (state.status === 'none' || state.teamId !== teamId) throw flowNotFound();
  return state;
}

function requireNode(flow: CreatedFlowState, nodeId: string): FlowNode {
  const node = flow.nodes.find((candidate) => candidate.id === nodeId);
  if (!node) throw nodeNotFound(nodeId);
  return node;
}

/** The limits when the command names none: the widest the event schema allows. */
export const DEFAULT_FLOW_LIMITS: FlowLimits = { maxNodes: MAX_FLOW_NODES, maxRepeat: MAX_FLOW_REPEAT, maxAttempts: 20, minBackoffSeconds: 0 };

function requireRepeat(repeat: number, limits: FlowLimits): void {
  const max = Math.min(limits.maxRepeat, MAX_FLOW_REPEAT);
  if (!Number.isInteger(repeat) || repeat < 0 || repeat > max) {
    throw invalid(`repeat must be a whole number from 0 to ${max}`, 'invalid_repeat');
  }
}

function requireAckTimeout(minutes: number | null | undefined): void {
  if (minutes === null || minutes === undefined) return;
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_ACK_TIMEOUT_MINUTES) {
    throw invalid(`ackTimeoutMinutes must be a whole number from 1 to ${MAX_ACK_TIMEOUT_MINUTES}`, 'invalid_ack_timeout', 'ackTimeoutMinutes');
  }
}

function requireNodeCount(count: number, limits: FlowLimits): void {
  const max = Math.min(limits.maxNodes, MAX_FLOW_NODES);
  if (count > max) throw invalid(`a flow has at most ${max} nodes`, 'too_many_nodes');
}

function requireRetry(retry: RetryPolicy, limits: FlowLimits): void {
  if (retry.maxAttempts > limits.maxAttempts) {
    throw invalid(`a node makes at most ${limits.maxAttempts} attempts`, 'too_many_attempts');
  }
  if (retry.maxAttempts > 1 && retry.backoffSeconds < limits.minBackoffSeconds) {
    throw invalid(`a node that retries waits at least ${limits.minBackoffSeconds} s between attempts`, 'backoff_too_short');
  }
}

function requireMemberTarget(target: NodeTarget, teamMemberIds: TeamMemberIds): void {
  if (target.type === 'user' && !teamMemberIds.includes(target.userId)) {
    throw invalid(`user ${target.userId} is not a member of this team`, 'target_not_member');
  }
}

/** The node a node follows: null when it is first. */
function predecessorOf(nodes: readonly FlowNode[], nodeId: string): string | null {
  const index = nodes.findIndex((node) => node.id === nodeId);
  return index > 0 ? nodes[index - 1]!.id : null;
}

function insertAfter(nodes: readonly FlowNode[], node: FlowNode, after: string | null): FlowNode[] {
  const index = after === null ? 0 : nodes.findIndex((candidate) => candidate.id === after) + 1;
  return [...nodes.slice(0, index), node, ...nodes.slice(index)];
}

export function decide(command: FlowCommand, state: FlowState): FlowEvent[] {
  switch (command.type) {
    case 'CreateFlow': {
      if (state.status !== 'none') throw conflict(`flow ${command.flowId} already exists`, 'flow_exists');
      const limits = command.limits ?? DEFAULT_FLOW_LIMITS;
      requireRepeat(command.repeat, limits);
      requireAckTimeout(command.ackTimeoutMinutes);
      requireNodeCount(command.nodes.length, limits);
      for (const node of command.nodes) requireRetry(node.retry, limits);
      if (new Set(command.nodes.map((node) => node.id)).size !== command.nodes.length) {
        throw invalid('node ids must be unique within a flow', 'duplicate_node_id');
      }
      for (const node of command.nodes) requireMemberTarget(node.target, command.teamMemberIds);
      return [
        {
          type: 'FlowCreated',
          data: {
            flowId: command.flowId,
            teamId: command.teamId,
            name: command.name,
            repeat: command.repeat,
            nodes: command.nodes,
            ...(command.ackTimeoutMinutes ? { ackTimeoutMinutes: command.ackTimeoutMinutes } : {}),
            createdAt: command.now.toISOString(),
          },
        },
      ];
    }
    case 'ChangeFlowSettings': {
      const flow = requireTeamFlow(state, command.teamId);
      const events: FlowEvent[] = [];
      if (command.name !== undefined && command.name !== flow.name) {
        events.push({ type: 'FlowRenamed', data: { flowId: flow.flowId, name: command.name } });
      }
      if (command.repeat !== undefined && command.repeat !== flow.repeat) {
        requireRepeat(command.repeat, command.limits ?? DEFAULT_FLOW_LIMITS);
        events.push({ type: 'FlowRepeatChanged', data: { flowId: flow.flowId, repeat: command.repeat } });
      }
      if (command.ackTimeoutMinutes !== undefined && command.ackTimeoutMinutes !== flow.ackTimeoutMinutes) {
        requireAckTimeout(command.ackTimeoutMinutes);
        events.push({ type: 'FlowAckTimeoutChanged', data: { flowId: flow.flowId, ackTimeoutMinutes: command.ackTimeoutMinutes } });
      }
      return events;
    }
    case 'AddFlowNode': {
      const flow = requireTeamFlow(state, command.teamId);
      const limits = command.limits ?? DEFAULT_FLOW_LIMITS;
      requireNodeCount(flow.nodes.length + 1, limits);
      requireRetry(command.node.retry, limits);
      if (flow.nodes.some((node) => node.id === command.node.id)) {
        throw conflict(`node ${command.node.id} already exists in this flow`, 'node_exists');
      }
      const after = command.after === undefined ? (flow.nodes.at(-1)?.id ?? null) : command.after;
      if (after !== null) requireNode(flow, after);
      requireMemberTarget(command.node.target, command.teamMemberIds);
      return [{ type: 'FlowNodeAdded', data: { flowId: flow.flowId, node: command.node, after } }];
    }
    case 'UpdateFlowNode': {
      const flow = requireTeamFlow(state, command.teamId);
      const current = requireNode(flow, command.nodeId);
      const changes = Object.fromEntries(Object.entries(command.changes).filter(([, value]) => value !== undefined));
      const updated: FlowNode = { ...current, ...changes, id: current.id };
      if (isDeepStrictEqual(updated, current)) return [];
      if (command.changes.retry) requireRetry(updated.retry, command.limits ?? DEFAULT_FLOW_LIMITS);
      // A target the edit leaves alone is not re-checked: renaming a step must not fail because of someone else's membership.
      if (command.changes.target) requireMemberTarget(command.changes.target, command.teamMemberIds);
      return [{ type: 'FlowNodeUpdated', data: { flowId: flow.flowId, nodeId: current.id, node: updated } }];
    }
    case 'MoveFlowNode': {
      const flow = requireTeamFlow(state, command.teamId);
      requireNode(flow, command.nodeId);
      if (command.after === command.nodeId) throw invalid('a node cannot be moved after itself', 'move_after_itself');
      if (command.after !== null) requireNode(flow, command.after);
      if (predecessorOf(flow.nodes, command.nodeId) === command.after) return [];
      return [{ type: 'FlowNodeMoved', data: { flowId: flow.flowId, nodeId: command.nodeId, after: command.after } }];
    }
    case 'RemoveFlowNode': {
      const flow = requireTeamFlow(state, command.teamId);
      requireNode(flow, command.nodeId);
      return [{ type: 'FlowNodeRemoved', data: { flowId: flow.flowId, nodeId: command.nodeId } }];
    }
    case 'CreateIntegrationKey': {
      const flow = requireTeamFlow(state, command.teamId);
      if (flow.integrationKeys[command.keyId]) throw conflict(`integration key ${command.keyId} already exists`, 'integration_key_exists');
      return [
        {
          type: 'IntegrationKeyCreated',
          data: {
            flowId: flow.flowId,
            teamId: flow.teamId,
            keyId: command.keyId,
            keyHash: command.keyHash,
            createdAt: command.now.toISOString(),
          },
        },
      ];
    }
    case 'RevokeIntegrationKey': {
      const flow = requireTeamFlow(state, command.teamId);
      const key = flow.integrationKeys[command.keyId];
      if (!key) throw new DomainError('not_found', 'integration key not found', 'integration_key_not_found');
      if (key.revoked) return [];
      return [{ type: 'IntegrationKeyRevoked', data: { flowId: flow.flowId, keyId: command.keyId, revokedAt: command.now.toISOString() } }];
    }
  }
}

/** The flow's ordered nodes after a node edit: the one ordering rule, shared by the aggregate and its read model. */
export function nodesAfter(
  nodes: readonly FlowNode[],
  event: Extract<FlowEvent, { type: 'FlowNodeAdded' | 'FlowNodeUpdated' | 'FlowNodeMoved' | 'FlowNodeRemoved' }>,
): FlowNode[] {
  switch (event.type) {
    case 'FlowNodeAdded':
      return insertAfter(nodes, event.data.node, event.data.after);
    case 'FlowNodeUpdated':
      return nodes.map((node) => (node.id === event.data.nodeId ? event.data.node : node));
    case 'FlowNodeMoved': {
      const moved = nodes.find((node) => node.id === event.data.nodeId);
      if (!moved) return [...nodes];
      return insertAfter(nodes.filter((node) => node.id !== event.data.nodeId), moved, event.data.after);
    }
    case 'FlowNodeRemoved':
      return nodes.filter((node) => node.id !== event.data.nodeId);
  }
}

export function evolve(state: FlowState, event: FlowEvent): FlowState {
  if (event.type === 'FlowCreated') {
    const e = event.data;
    return {
      status: 'created', flowId: e.flowId, teamId: e.teamId, name: e.name, repeat: e.repeat, nodes: e.nodes,
      ackTimeoutMinutes: e.ackTimeoutMinutes ?? null, integrationKeys: {},
    };
  }
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'FlowRenamed':
      return { ...state, name: event.data.name };
    case 'FlowRepeatChanged':
      return { ...state, repeat: event.data.repeat };
    case 'FlowAckTimeoutChanged':
      return { ...state, ackTimeoutMinutes: event.data.ackTimeoutMinutes };
    case 'FlowNodeAdded':
    case 'FlowNodeUpdated':
    case 'FlowNodeMoved':
    case 'FlowNodeRemoved':
      return { ...state, nodes: nodesAfter(state.nodes, event) };
    case 'IntegrationKeyCreated':
      return { ...state, integrationKeys: { ...state.integrationKeys, [event.data.keyId]: { revoked: false } } };
    case 'IntegrationKeyRevoked':
      return { ...state, integrationKeys: { ...state.integrationKeys, [event.data.keyId]: { revoked: true } } };
  }
}

export const initialState = (): FlowState => ({ status: 'none' });

export const flowDecider: Decider<FlowCommand, FlowState, FlowEvent> = { initialState, evolve, decide };
