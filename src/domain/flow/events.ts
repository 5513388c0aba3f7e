import { z } from 'zod';
import type { EventDefinition, EventsOf } from '../../eventstore/catalog.js';
import { Timestamp } from '../schemas.js';
import { FlowNode } from './node.js';

export const MAX_FLOW_NODES = 50;
export const MAX_FLOW_REPEAT = 10;

export const FlowName = z.string().trim().min(1).max(200);
export const FlowRepeat = z.int().min(0).max(MAX_FLOW_REPEAT);
/** An acknowledgement lapses after at most a day. */
export const MAX_ACK_TIMEOUT_MINUTES = 1440;
export const FlowAckTimeout = z.int().min(1).max(MAX_ACK_TIMEOUT_MINUTES);

export const FlowCreated = z.object({
  flowId: z.uuid(),
  teamId: z.uuid(),
  name: z.string(),
  repeat: z.int().min(0),
  nodes: z.array(FlowNode),
  /** Minutes an acknowledgement holds before the alert is triggered again; absent: for good. */
  ackTimeoutMinutes: z.int().min(1).optional(),
  createdAt: Timestamp,
});

export const FlowRenamed = z.object({ flowId: z.uuid(), name: z.string() });

export const FlowRepeatChanged = z.object({ flowId: z.uuid(), repeat: z.int().min(0) });

/** null: acknowledgements hold for good. */
export const FlowAckTimeoutChanged = z.object({ flowId: z.uuid(), ackTimeoutMinutes: z.int().min(1).nullable() });

/** `after` is the node the new one follows, null for the first place; never omitted, so replays need no state. */
export const FlowNodeAdded = z.object({ flowId: z.uuid(), node: FlowNode, after: z.uuid().nullable() });

/** The whole node as it is after the change, so a reader of the timeline sees the result without folding. */
export const FlowNodeUpdated = z.object({ flowId: z.uuid(), nodeId: z.uuid(), node: FlowNode });

export const FlowNodeMoved = z.object({ flowId: z.uuid(), nodeId: z.uuid(), after: z.uuid().nullable() });

export const FlowNodeRemoved = z.object({ flowId: z.uuid(), nodeId: z.uuid() });

/** Only the sha256 of the key is recorded; the key itself is shown once to whoever created it. */
export const IntegrationKeyCreated = z.object({
  flowId: z.uuid(),
  teamId: z.uuid(),
  keyId: z.uuid(),
  keyHash: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: Timestamp,
});

export const IntegrationKeyRevoked = z.object({ flowId: z.uuid(), keyId: z.uuid(), revokedAt: Timestamp });

export const flowEventDefinitions = {
  FlowCreated: { schema: FlowCreated, version: 1 },
  FlowRenamed: { schema: FlowRenamed, version: 1 },
  FlowRepeatChanged: { schema: FlowRepeatChanged, version: 1 },
  FlowAckTimeoutChanged: { schema: FlowAckTimeoutChanged, version: 1 },
  FlowNodeAdded: { schema: FlowNodeAdded, version: 1 },
  FlowNodeUpdated: { schema: FlowNodeUpdated, version: 1 },
  FlowNodeMoved: { schema: FlowNodeMoved, version: 1 },
  FlowNodeRemoved: { schema: FlowNodeRemoved, version: 1 },
  IntegrationKeyCreated: { schema: IntegrationKeyCreated, version: 1 },
  IntegrationKeyRevoked: { schema: IntegrationKeyRevoked, version: 1 },
} satisfies Record<string, EventDefinition>;

export type FlowEvent = EventsOf<typeof flowEventDefinitions>;
export type FlowEventOf<T extends FlowEvent['type']> = Extract<FlowEvent, { type: T }>;
