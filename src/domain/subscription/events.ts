import { z } from 'zod';
import type { EventDefinition, EventsOf } from '../../eventstore/catalog.js';
import { Timestamp } from '../schemas.js';

/** What a subscriber may follow of an incident. */
export const LifecycleEventType = z.enum([
  'alert.triggered',
  'alert.acknowledged',
  'alert.resolved',
  'alert.escalated',
  'alert.note_added',
  'notification.failed',
]);
export type LifecycleEventType = z.infer<typeof LifecycleEventType>;

/** The receiver, in the shape every webhook target has, so the audit trail redacts it for viewers like a flow's. */
export const SubscriptionTarget = z.object({ type: z.literal('webhook'), url: z.string() });

export const SubscriptionCreated = z.object({
  subscriptionId: z.uuid(),
  teamId: z.uuid(),
  target: SubscriptionTarget,
  events: z.array(LifecycleEventType).min(1),
  createdAt: Timestamp,
});

export const SubscriptionDeleted = z.object({ subscriptionId: z.uuid(), teamId: z.uuid(), at: Timestamp });

export const subscriptionEventDefinitions = {
  SubscriptionCreated: { schema: SubscriptionCreated, version: 1 },
  SubscriptionDeleted: { schema: SubscriptionDeleted, version: 1 },
} satisfies Record<string, EventDefinition>;

export type SubscriptionEvent = EventsOf<typeof subscriptionEventDefinitions>;
export type SubscriptionEventOf<T extends SubscriptionEvent['type']> = Extract<SubscriptionEvent, { type: T }>;
