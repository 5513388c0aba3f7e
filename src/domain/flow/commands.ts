import type { FlowNode, FlowNodeInput } from './node.js';

/**
 * Which users named as targets in the command are current members of the team. The command handler looks them
 * up in the team's membership because the decider cannot see another aggregate.
 */
export type TeamMemberIds = readonly string[];

/** How large and how insistent a team's flows may be (per-team quotas; the service's configuration sets them). */
export interface FlowLimits {
  maxNodes: number;
  maxRepeat: number;
  maxAttempts: number;
  /** The shortest backoff between attempts of a node that retries. */
  minBackoffSeconds: number;
}

export type FlowCommand =
  | {
      type: 'CreateFlow';
      flowId: string;
      teamId: string;
      name: string;
      repeat: number;
      nodes: FlowNode[];
      ackTimeoutMinutes?: number | null;
      teamMemberIds: TeamMemberIds;
      now: Date;
      limits?: FlowLimits;
    }
  /** `ackTimeoutMinutes` null removes the timeout; undefined leaves it as it is. */
  | { type: 'ChangeFlowSettings'; teamId: string; name?: string; repeat?: number; ackTimeoutMinutes?: number | null; limits?: FlowLimits }
  /** `after` omitted: append at the end; null: make it the first node. */
  | { type: 'AddFlowNode'; teamId: string; node: FlowNode; after?: string | null; teamMemberIds: TeamMemberIds; limits?: FlowLimits }
  | {
      type: 'UpdateFlowNode';
      teamId: string;
      nodeId: string;
      changes: Partial<FlowNodeInput>;
      teamMemberIds: TeamMemberIds;
      limits?: FlowLimits;
    }
  | { type: 'MoveFlowNode'; teamId: string; nodeId: string; after: string | null }
  | { type: 'RemoveFlowNode'; teamId: string; nodeId: string }
  | { type: 'CreateIntegrationKey'; teamId: string; keyId: string; keyHash: string; now: Date }
  | { type: 'RevokeIntegrationKey'; teamId: string; keyId: string; now: Date };
