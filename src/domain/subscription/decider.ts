import { conflict, type Decider, DomainError, invalid } from '../decider.js';
import type { SubscriptionCommand } from './commands.js';
import type { SubscriptionEvent } from './events.js';

/** Subscriptions one team may hold at once; every one is a receiver each lifecycle event is sent to. */
export const MAX_SUBSCRIPTIONS_PER_TEAM = 20;

export interface TeamSubscription {
  subscriptionId: string;
  url: string;
  events: string[];
}

/** The team's live subscriptions (at most the cap): deleted ones are forgotten, so the state stays bounded. */
export interface SubscriptionsState {
  teamId: string | null;
  subscriptions: TeamSubscription[];
}

export const initialState = (): SubscriptionsState => ({ teamId: null, subscriptions: [] });

export function decide(command: SubscriptionCommand, state: SubscriptionsState): SubscriptionEvent[] {
  const { teamId, subscriptionId } = command;
  const at = command.now.toISOString();
  switch (command.type) {
    case 'CreateSubscription': {
      if (state.subscriptions.some((subscription) => subscription.subscriptionId === subscriptionId)) {
        throw conflict(`subscription ${subscriptionId} already exists`, 'subscription_exists');
      }
      if (state.subscriptions.length >= MAX_SUBSCRIPTIONS_PER_TEAM) {
        throw conflict(`a team has at most ${MAX_SUBSCRIPTIONS_PER_TEAM} subscriptions`, 'too_many_subscriptions');
      }
      const events = [...new Set(command.events)];
      if (events.length === 0) throw invalid('a subscription follows at least one event type', 'no_events', 'events');
      return [{ type: 'SubscriptionCreated', data: { subscriptionId, teamId, target: { type: 'webhook', url: command.url }, events, createdAt: at } }];
    }
    case 'DeleteSubscription': {
      if (!state.subscriptions.some((subscription) => subscription.subscriptionId === subscriptionId)) {
        throw new DomainError('not_found', 'subscription not found', 'subscription_not_found');
      }
      return [{ type: 'SubscriptionDeleted', data: { subscriptionId, teamId, at } }];
    }
  }
}

export function evolve(state: SubscriptionsState, event: SubscriptionEvent): SubscriptionsState {
  switch (event.type) {
    case 'SubscriptionCreated': {
      const { subscriptionId, teamId, target, events } = event.data;
      return { teamId, subscriptions: [...state.subscriptions, { subscriptionId, url: target.url, events }] };
    }
    case 'SubscriptionDeleted':
      return { ...state, subscriptions: state.subscriptions.filter((subscription) => subscription.subscriptionId !== event.data.subscriptionId) };
  }
}

export const subscriptionsDecider: Decider<SubscriptionCommand, SubscriptionsState, SubscriptionEvent> = { initialState, evolve, decide };
