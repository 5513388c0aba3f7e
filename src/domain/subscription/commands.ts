import type { LifecycleEventType } from './events.js';

export type SubscriptionCommand =
  | { type: 'CreateSubscription'; teamId: string; subscriptionId: string; url: string; events: readonly LifecycleEventType[]; now: Date }
  | { type: 'DeleteSubscription'; teamId: string; subscriptionId: string; now: Date };
