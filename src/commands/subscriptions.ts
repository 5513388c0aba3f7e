import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import { invalid } from '../domain/decider.js';
import { subscriptionsDecider } from '../domain/subscription/decider.js';
import type { LifecycleEventType } from '../domain/subscription/events.js';
import { subscriptionsStreamId } from '../domain/subscription/identity.js';
import type { Actor, LogPosition } from '../eventstore/types.js';
import { webhookTargetRefusal } from '../infra/network-guard.js';
import { type CommandDependencies, commandHandler } from './handle-command.js';

const handleSubscriptions = commandHandler(subscriptionsDecider, subscriptionsStreamId, (state) => state.teamId);

export interface SubscriptionCommandDependencies extends CommandDependencies {
  config: Pick<Config, 'webhookAllowPrivate' | 'webhookAllowLoopback'>;
}

/**
 * A receiver on a network this server may not reach is refused when the subscription is made, as a flow's webhook
 * is; the check made at every send still decides, since DNS can change.
 */
export async function createSubscription(
  deps: SubscriptionCommandDependencies,
  input: { teamId: string; url: string; events: readonly LifecycleEventType[]; actor: Actor; now: Date },
): Promise<{ subscriptionId: string; position: LogPosition | null }> {
  const refusal = await webhookTargetRefusal(input.url, {
    policy: { allowPrivate: deps.config.webhookAllowPrivate, allowLoopback: deps.config.webhookAllowLoopback },
  });
  if (refusal) throw invalid(refusal, 'webhook_target_refused', 'url');
  const subscriptionId = randomUUID();
  const result = await handleSubscriptions(
    deps,
    input.teamId,
    { type: 'CreateSubscription', teamId: input.teamId, subscriptionId, url: input.url, events: input.events, now: input.now },
    { actor: input.actor },
  );
  return { subscriptionId, position: result.position };
}

export async function deleteSubscription(
  deps: CommandDependencies,
  input: { teamId: string; subscriptionId: string; actor: Actor; now: Date },
): Promise<{ position: LogPosition | null }> {
  const result = await handleSubscriptions(
    deps,
    input.teamId,
    { type: 'DeleteSubscription', teamId: input.teamId, subscriptionId: input.subscriptionId, now: input.now },
    { actor: input.actor },
  );
  return { position: result.position };
}
