import { describe, it } from 'vitest';
import { deciderSpecification } from '../decider-specification.js';
import type { SubscriptionCommand } from './commands.js';
import { MAX_SUBSCRIPTIONS_PER_TEAM, subscriptionsDecider } from './decider.js';
import type { LifecycleEventType, SubscriptionEvent } from './events.js';

const spec = deciderSpecification(subscriptionsDecider);
const teamId = '00000000-0000-4000-8000-000000000001';
const subscriptionId = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const now = new Date('2026-01-01T00:00:00.000Z');
const at = now.toISOString();
const url = 'https://hooks.example.com/incidents';

const create = (n: number, events: LifecycleEventType[] = ['alert.triggered']): SubscriptionCommand => ({
  type: 'CreateSubscription', teamId, subscriptionId: subscriptionId(n), url, events, now,
});
const created = (n: number): SubscriptionEvent => ({
  type: 'SubscriptionCreated',
  data: { subscriptionId: subscriptionId(n), teamId, target: { type: 'webhook', url }, events: ['alert.triggered'], createdAt: at },
});
const deleted = (n: number): SubscriptionEvent => ({ type: 'SubscriptionDeleted', data: { subscriptionId: subscriptionId(n), teamId, at } });

describe('subscriptions decider', () => {
  it('a subscription is created with its receiver and the event types it follows, each once', () => {
    spec
      .given([])
      .when(create(1, ['alert.triggered', 'alert.resolved', 'alert.triggered']))
      .then([
        {
          type: 'SubscriptionCreated',
          data: { subscriptionId: subscriptionId(1), teamId, target: { type: 'webhook', url }, events: ['alert.triggered', 'alert.resolved'], createdAt: at },
        },
      ]);
  });

  it('a subscription following nothing is refused, naming the events', () => {
    spec.given([]).when(create(1, [])).thenThrows('invalid', 'no_events');
  });

  it(`a team holds at most ${MAX_SUBSCRIPTIONS_PER_TEAM} subscriptions`, () => {
    const full = Array.from({ length: MAX_SUBSCRIPTIONS_PER_TEAM }, (_, index) => created(index + 1));
    spec.given(full).when(create(99)).thenThrows('conflict', 'too_many_subscriptions');
  });

  it('a deleted subscription frees its place under the cap', () => {
    const full = Array.from({ length: MAX_SUBSCRIPTIONS_PER_TEAM }, (_, index) => created(index + 1));
    spec.given([...full, deleted(3)]).when(create(99)).then([{ ...created(99) }]);
  });

  it('deleting a subscription records it', () => {
    spec.given([created(1)]).when({ type: 'DeleteSubscription', teamId, subscriptionId: subscriptionId(1), now }).then([deleted(1)]);
  });

  it('a subscription deleted already, or never made, is not found', () => {
    spec.given([created(1), deleted(1)]).when({ type: 'DeleteSubscription', teamId, subscriptionId: subscriptionId(1), now }).thenThrows('not_found');
    spec.given([]).when({ type: 'DeleteSubscription', teamId, subscriptionId: subscriptionId(2), now }).thenThrows('not_found');
  });
});
