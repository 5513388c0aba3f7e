import { describe, expect, it } from 'vitest';
import { fold } from '../decider.js';
import { deciderSpecification } from '../decider-specification.js';
import type { FlowCommand } from './commands.js';
import { flowDecider } from './decider.js';
import type { FlowEvent } from './events.js';
import { DEFAULT_RETRY, type FlowNode } from './node.js';

const spec = deciderSpecification(flowDecider);
const flowId = '00000000-0000-4000-8000-00000000f10a';
const teamId = '00000000-0000-4000-8000-000000000001';
const otherTeamId = '00000000-0000-4000-8000-000000000002';
const memberId = '00000000-0000-4000-8000-00000000aaaa';
const strangerId = '00000000-0000-4000-8000-00000000bbbb';
const keyId = '00000000-0000-4000-8000-00000000c001';
const keyHash = 'a'.repeat(64);
const t0 = new Date('2026-01-01T00:00:00.000Z');

const nodeId = (n: number) => `00000000-0000-4000-8000-0000000000${String(n).padStart(2, '0')}`;
const node = (n: number, overrides: Partial<FlowNode> = {}): FlowNode => ({
  id: nodeId(n),
  name: `step ${n}`,
  delaySeconds: n * 60,
  target: { type: 'email', email: `oncall${n}@example.com` },
  retry: DEFAULT_RETRY,
  ...overrides,
});

const created = (nodes: FlowNode[] = [node(1), node(2), node(3)], repeat = 0): FlowEvent => ({
  type: 'FlowCreated',
  data: { flowId, teamId, name: 'primary', repeat, nodes, createdAt: t0.toISOString() },
});
const added = (n: number, after: string | null): FlowEvent => ({ type: 'FlowNodeAdded', data: { flowId, node: node(n), after } });
const moved = (n: number, after: string | null): FlowEvent => ({ type: 'FlowNodeMoved', data: { flowId, nodeId: nodeId(n), after } });
const removed = (n: number): FlowEvent => ({ type: 'FlowNodeRemoved', data: { flowId, nodeId: nodeId(n) } });
const keyCreated: FlowEvent = { type: 'IntegrationKeyCreated', data: { flowId, teamId, keyId, keyHash, createdAt: t0.toISOString() } };

const create = (overrides: Partial<Extract<FlowCommand, { type: 'CreateFlow' }>> = {}): FlowCommand => ({
  type: 'CreateFlow',
  flowId,
  teamId,
  name: 'primary',
  repeat: 0,
  nodes: [node(1), node(2), node(3)],
  teamMemberIds: [],
  now: t0,
  ...overrides,
});
const addNode = (n: number, after?: string | null, overrides: Partial<FlowNode> = {}): FlowCommand => ({
  type: 'AddFlowNode',
  teamId,
  node: node(n, overrides),
  ...(after === undefined ? {} : { after }),
  teamMemberIds: [memberId],
});
const move = (n: number, after: string | null, team = teamId): FlowCommand => ({ type: 'MoveFlowNode', teamId: team, nodeId: nodeId(n), after });
const update = (n: number, changes: Extract<FlowCommand, { type: 'UpdateFlowNode' }>['changes']): FlowCommand => ({
  type: 'UpdateFlowNode',
  teamId,
  nodeId: nodeId(n),
  changes,
  teamMemberIds: [memberId],
});
const orderAfter = (events: FlowEvent[]) => {
  const state = fold(flowDecider, events);
  return state.status === 'none' ? [] : state.nodes.map((candidate) => candidate.id);
};

describe('flow decider', () => {
  describe('creating', () => {
    it('creates a flow with its nodes in order', () => spec.given([]).when(create()).then([created()]));

    it('a flow id that exists cannot be created again', () => spec.given([created()]).when(create()).thenThrows('conflict', 'flow_exists'));

    it('node ids are unique within a flow', () =>
      spec.given([]).when(create({ nodes: [node(1), node(1, { name: 'again' })] })).thenThrows('invalid', 'duplicate_node_id'));

    it('a flow has at most 50 nodes', () => {
      const nodes = Array.from({ length: 51 }, (_, n) => node(n));
      spec.given([]).when(create({ nodes })).thenThrows('invalid', 'too_many_nodes');
      spec.given([]).when(create({ nodes: nodes.slice(0, 50) })).then([created(nodes.slice(0, 50))]);
    });

    it('repeat is between 0 and 10', () => {
      spec.given([]).when(create({ repeat: 11 })).thenThrows('invalid', 'invalid_repeat');
      spec.given([]).when(create({ repeat: -1 })).thenThrows('invalid', 'invalid_repeat');
      spec.given([]).when(create({ repeat: 10 })).then([created(undefined, 10)]);
    });

    describe("within the team's limits", () => {
      const limits = { maxNodes: 3, maxRepeat: 2, maxAttempts: 5, minBackoffSeconds: 1 };
      const retrying = (maxAttempts: number, backoffSeconds: number) => node(1, { retry: { maxAttempts, backoffSeconds } });

      it('a flow holds at most the limit of nodes, loops at most the limit of repeats', () => {
        spec.given([]).when(create({ limits, nodes: [node(1), node(2), node(3), node(4)] })).thenThrows('invalid', 'too_many_nodes');
        spec.given([]).when(create({ limits, repeat: 3 })).thenThrows('invalid', 'invalid_repeat');
        spec.given([created()]).when(addNode(4, undefined)).then([{ type: 'FlowNodeAdded', data: { flowId, node: node(4), after: node(3).id } }]);
        spec.given([created()]).when({ ...addNode(4, undefined), limits } as FlowCommand).thenThrows('invalid', 'too_many_nodes');
      });

      it('a node makes at most the limit of attempts, waiting at least the minimum backoff when it retries', () => {
        spec.given([]).when(create({ limits, nodes: [retrying(6, 30)] })).thenThrows('invalid', 'too_many_attempts');
        spec.given([]).when(create({ limits, nodes: [retrying(3, 0.5)] })).thenThrows('invalid', 'backoff_too_short');
        spec.given([]).when(create({ limits, nodes: [retrying(1, 0)] })).then([created([retrying(1, 0)])]);
        spec.given([created()])
          .when({ type: 'UpdateFlowNode', teamId, nodeId: node(1).id, changes: { retry: { maxAttempts: 20, backoffSeconds: 0 } }, teamMemberIds: [], limits })
          .thenThrows('invalid', 'too_many_attempts');
      });
    });

    it('a user target must be a current member of the team', () => {
      const paged = node(1, { target: { type: 'user', userId: strangerId } });
      spec.given([]).when(create({ nodes: [paged] })).thenThrows('invalid', 'target_not_member');
      spec.given([]).when(create({ nodes: [paged], teamMemberIds: [strangerId] })).then([created([paged])]);
    });
  });

  describe('settings', () => {
    it('renames a flow', () =>
      spec.given([created()]).when({ type: 'ChangeFlowSettings', teamId, name: 'secondary' }).then([
        { type: 'FlowRenamed', data: { flowId, name: 'secondary' } },
      ]));

    it('changes the repeat count', () =>
      spec.given([created()]).when({ type: 'ChangeFlowSettings', teamId, repeat: 3 }).then([
        { type: 'FlowRepeatChanged', data: { flowId, repeat: 3 } },
      ]));

    it('a repeat above 10 is refused', () =>
      spec.given([created()]).when({ type: 'ChangeFlowSettings', teamId, repeat: 11 }).thenThrows('invalid', 'invalid_repeat'));

    it('settings that change nothing record nothing', () =>
      spec.given([created()]).when({ type: 'ChangeFlowSettings', teamId, name: 'primary', repeat: 0 }).thenNothingHappens());

    it("another team's flow does not exist", () =>
      spec.given([created()]).when({ type: 'ChangeFlowSettings', teamId: otherTeamId, name: 'mine' }).thenThrows('not_found', 'flow_not_found'));

    it('an unknown flow does not exist', () =>
      spec.given([]).when({ type: 'ChangeFlowSettings', teamId, name: 'x' }).thenThrows('not_found', 'flow_not_found'));
  });

  describe('acknowledgement timeout', () => {
    const timeoutChanged = (ackTimeoutMinutes: number | null): FlowEvent => ({ type: 'FlowAckTimeoutChanged', data: { flowId, ackTimeoutMinutes } });
    it('a flow is created with an acknowledgement timeout', () =>
      spec.given([]).when(create({ ackTimeoutMinutes: 30 })).then([
        {
          type: 'FlowCreated',
          data: { flowId, teamId, name: 'primary', repeat: 0, nodes: [node(1), node(2), node(3)], ackTimeoutMinutes: 30, createdAt: t0.toISOString() },
        },
      ]));
    it('the timeout is a whole number of minutes from 1 to 1440', () => {
      spec.given([]).when(create({ ackTimeoutMinutes: 0 })).thenThrows('invalid', 'invalid_ack_timeout');
      spec.given([]).when(create({ ackTimeoutMinutes: 1441 })).thenThrows('invalid', 'invalid_ack_timeout');
      spec.given([created()]).when({ type: 'ChangeFlowSettings', teamId, ackTimeoutMinutes: 2.5 }).thenThrows('invalid', 'invalid_ack_timeout');
    });
    it('changes and removes the timeout; the same value records nothing', () => {
      spec.given([created()]).when({ type: 'ChangeFlowSettings', teamId, ackTimeoutMinutes: 15 }).then([timeoutChanged(15)]);
      spec.given([created(), timeoutChanged(15)]).when({ type: 'ChangeFlowSettings', teamId, ackTimeoutMinutes: null }).then([timeoutChanged(null)]);
      spec.given([created(), timeoutChanged(15)]).when({ type: 'ChangeFlowSettings', teamId, ackTimeoutMinutes: 15 }).thenNothingHappens();
      spec.given([created()]).when({ type: 'ChangeFlowSettings', teamId, ackTimeoutMinutes: null }).thenNothingHappens();
    });
  });

  describe('adding nodes', () => {
    it('without `after` a node is appended at the end', () => spec.given([created()]).when(addNode(4)).then([added(4, nodeId(3))]));

    it('appending to an empty flow places the node first', () => spec.given([created([])]).when(addNode(1)).then([added(1, null)]));

    it('`after: null` makes the node the first', () => {
      spec.given([created()]).when(addNode(4, null)).then([added(4, null)]);
      expect(orderAfter([created(), added(4, null)])).toEqual([nodeId(4), nodeId(1), nodeId(2), nodeId(3)]);
    });

    it('a node is inserted after the node it names', () => {
      spec.given([created()]).when(addNode(4, nodeId(1))).then([added(4, nodeId(1))]);
      expect(orderAfter([created(), added(4, nodeId(1))])).toEqual([nodeId(1), nodeId(4), nodeId(2), nodeId(3)]);
    });

    it('`after` must name a node of this flow', () =>
      spec.given([created()]).when(addNode(4, nodeId(9))).thenThrows('not_found', 'node_not_found'));

    it('`after` naming a removed node is unknown', () =>
      spec.given([created(), removed(2)]).when(addNode(4, nodeId(2))).thenThrows('not_found', 'node_not_found'));

    it('a node id already in the flow is refused', () => spec.given([created()]).when(addNode(2)).thenThrows('conflict', 'node_exists'));

    it('the 51st node is refused', () => {
      const full = created(Array.from({ length: 50 }, (_, n) => node(n)));
      spec.given([full]).when(addNode(50)).thenThrows('invalid', 'too_many_nodes');
    });

    it('a user target must be a current member of the team', () => {
      spec.given([created()]).when(addNode(4, undefined, { target: { type: 'user', userId: strangerId } })).thenThrows('invalid', 'target_not_member');
      spec.given([created()]).when(addNode(4, undefined, { target: { type: 'user', userId: memberId } })).then([
        { type: 'FlowNodeAdded', data: { flowId, node: node(4, { target: { type: 'user', userId: memberId } }), after: nodeId(3) } },
      ]);
    });

    it("nodes cannot be added to another team's flow", () =>
      spec.given([created()]).when({ ...addNode(4), teamId: otherTeamId }).thenThrows('not_found', 'flow_not_found'));
  });

  describe('updating nodes', () => {
    it('records the whole node as it is after the change', () =>
      spec.given([created()]).when(update(2, { delaySeconds: 5, name: 'page the lead' })).then([
        { type: 'FlowNodeUpdated', data: { flowId, nodeId: nodeId(2), node: node(2, { delaySeconds: 5, name: 'page the lead' }) } },
      ]));

    it('replaces the retry policy', () =>
      spec.given([created()]).when(update(1, { retry: { maxAttempts: 5, backoffSeconds: 1 } })).then([
        { type: 'FlowNodeUpdated', data: { flowId, nodeId: nodeId(1), node: node(1, { retry: { maxAttempts: 5, backoffSeconds: 1 } }) } },
      ]));

    it('an update that changes nothing records nothing', () =>
      spec.given([created()]).when(update(1, { name: 'step 1', target: { type: 'email', email: 'oncall1@example.com' } })).thenNothingHappens());

    it('an unknown node is not found', () => spec.given([created()]).when(update(9, { name: 'x' })).thenThrows('not_found', 'node_not_found'));

    it('a new user target must be a current member of the team', () =>
      spec.given([created()]).when(update(1, { target: { type: 'user', userId: strangerId } })).thenThrows('invalid', 'target_not_member'));

    it('a user target left alone is not re-checked', () => {
      const paged = node(1, { target: { type: 'user', userId: strangerId } });
      spec.given([created([paged])]).when(update(1, { name: 'renamed' })).then([
        { type: 'FlowNodeUpdated', data: { flowId, nodeId: nodeId(1), node: { ...paged, name: 'renamed' } } },
      ]);
    });
  });

  describe('moving nodes', () => {
    it('moves a node after another', () => {
      spec.given([created()]).when(move(1, nodeId(3))).then([moved(1, nodeId(3))]);
      expect(orderAfter([created(), moved(1, nodeId(3))])).toEqual([nodeId(2), nodeId(3), nodeId(1)]);
    });

    it('`after: null` moves a node to the front', () => {
      spec.given([created()]).when(move(3, null)).then([moved(3, null)]);
      expect(orderAfter([created(), moved(3, null)])).toEqual([nodeId(3), nodeId(1), nodeId(2)]);
    });

    it('moving a node to where it already is records nothing', () => {
      spec.given([created()]).when(move(2, nodeId(1))).thenNothingHappens();
      spec.given([created()]).when(move(1, null)).thenNothingHappens();
    });

    it('a node cannot be moved after itself', () => spec.given([created()]).when(move(2, nodeId(2))).thenThrows('invalid', 'move_after_itself'));

    it('`after` must name a node of this flow', () => spec.given([created()]).when(move(1, nodeId(9))).thenThrows('not_found', 'node_not_found'));

    it('an unknown node cannot be moved', () => spec.given([created()]).when(move(9, null)).thenThrows('not_found', 'node_not_found'));

    it("another team's flow does not exist", () =>
      spec.given([created()]).when(move(1, null, otherTeamId)).thenThrows('not_found', 'flow_not_found'));
  });

  describe('removing nodes', () => {
    it('removes a node', () => {
      spec.given([created()]).when({ type: 'RemoveFlowNode', teamId, nodeId: nodeId(2) }).then([removed(2)]);
      expect(orderAfter([created(), removed(2)])).toEqual([nodeId(1), nodeId(3)]);
    });

    it('a removed node is not found a second time', () =>
      spec.given([created(), removed(2)]).when({ type: 'RemoveFlowNode', teamId, nodeId: nodeId(2) }).thenThrows('not_found', 'node_not_found'));

    it('a node added after a node that was later moved stays where it was put', () =>
      expect(orderAfter([created(), added(4, nodeId(1)), moved(1, nodeId(3))])).toEqual([nodeId(4), nodeId(2), nodeId(3), nodeId(1)]));
  });

  describe('integration keys', () => {
    it('records only the hash of a new key', () =>
      spec.given([created()]).when({ type: 'CreateIntegrationKey', teamId, keyId, keyHash, now: t0 }).then([keyCreated]));

    it("keys cannot be created on another team's flow", () =>
      spec.given([created()]).when({ type: 'CreateIntegrationKey', teamId: otherTeamId, keyId, keyHash, now: t0 }).thenThrows('not_found', 'flow_not_found'));

    it('a key id is used once', () =>
      spec.given([created(), keyCreated]).when({ type: 'CreateIntegrationKey', teamId, keyId, keyHash, now: t0 }).thenThrows('conflict', 'integration_key_exists'));

    it('revokes a key', () =>
      spec.given([created(), keyCreated]).when({ type: 'RevokeIntegrationKey', teamId, keyId, now: t0 }).then([
        { type: 'IntegrationKeyRevoked', data: { flowId, keyId, revokedAt: t0.toISOString() } },
      ]));

    it('revoking twice is a no-op', () =>
      spec
        .given([created(), keyCreated, { type: 'IntegrationKeyRevoked', data: { flowId, keyId, revokedAt: t0.toISOString() } }])
        .when({ type: 'RevokeIntegrationKey', teamId, keyId, now: t0 })
        .thenNothingHappens());

    it('an unknown key is not found', () =>
      spec.given([created()]).when({ type: 'RevokeIntegrationKey', teamId, keyId, now: t0 }).thenThrows('not_found', 'integration_key_not_found'));
  });
});
