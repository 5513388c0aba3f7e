import type { Selectable } from 'kysely';
import type { SubscriptionEvent } from '../domain/subscription/events.js';
import { defineProjection } from './projection.js';
import type { SubscriptionsTable } from './read-models.js';

type SubscriptionTables = { subscriptions: Selectable<SubscriptionsTable> };

/** Teams' lifecycle webhook subscriptions, for listing. */
export const subscriptionsProjection = defineProjection<SubscriptionTables, SubscriptionEvent>()({
  name: 'subscriptions',
  keys: { subscriptions: ['id'] },
  handlers: {
    SubscriptionCreated({ subscriptions }, { data: e }) {
      subscriptions.put({ id: e.subscriptionId, team_id: e.teamId, url: e.target.url, events: e.events, created_at: new Date(e.createdAt) });
    },
    SubscriptionDeleted({ subscriptions }, { data }) {
      subscriptions.delete({ id: data.subscriptionId });
    },
  },
});
