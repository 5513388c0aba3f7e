import { z } from 'zod';
import { createSubscription, deleteSubscription } from '../../commands/subscriptions.js';
import { LifecycleEventType } from '../../domain/subscription/events.js';
import { MAX_SUBSCRIPTIONS_PER_TEAM } from '../../domain/subscription/decider.js';
import { can } from '../../domain/team/roles.js';
import { badRequest } from '../problem.js';
import { redactWebhookUrl } from '../redaction.js';
import { noContent, routeGroup } from '../routing.js';
import { pageLimit, TeamParams } from '../schemas.js';

const route = routeGroup({ tag: 'subscriptions' });
const MANAGE = { team: 'integrations:manage', source: 'stream' } as const;

const SubscriptionParams = TeamParams.extend({ subscriptionId: z.uuid() });
const SubscriptionInput = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).max(2048),
  events: z.array(LifecycleEventType).min(1).max(LifecycleEventType.options.length * 2),
});
const SubscriptionView = z.object({ id: z.uuid(), url: z.string(), events: z.array(LifecycleEventType), createdAt: z.string() });

const create = route('post', '/teams/:teamId/subscriptions', {
  summary: `Subscribe a webhook to the team's alert lifecycle events (owner or admin; at most ${MAX_SUBSCRIPTIONS_PER_TEAM} per team)`,
  permission: MANAGE,
  params: TeamParams,
  body: SubscriptionInput,
  responses: { 201: z.object({ id: z.uuid() }) },
  async handler({ params, body, actor, services }) {
    const created = await createSubscription(services, { teamId: params.teamId, url: body.url, events: body.events, actor, now: services.clock() });
    return {
      status: 201,
      body: { id: created.subscriptionId },
      headers: { Location: `/teams/${params.teamId}/subscriptions/${created.subscriptionId}` },
      position: created.position,
    };
  },
});

const list = route('get', '/teams/:teamId/subscriptions', {
  summary: "The team's lifecycle webhook subscriptions by id; the next page starts after the last one's id; viewers see URLs redacted",
  permission: 'team:read',
  params: TeamParams,
  query: z.object({ limit: pageLimit(MAX_SUBSCRIPTIONS_PER_TEAM, MAX_SUBSCRIPTIONS_PER_TEAM), after: z.uuid().optional() }),
  responses: { 200: z.array(SubscriptionView) },
  async handler({ params, query, role, services }) {
    let select = services.db.selectFrom('subscriptions').selectAll().where('team_id', '=', params.teamId);
    if (query.after) select = select.where('id', '>', query.after);
    const rows = await select.orderBy('id').limit(query.limit).execute();
    if (query.after && rows.length === 0) {
      const cursor = await services.db.selectFrom('subscriptions').select('id').where('id', '=', query.after).where('team_id', '=', params.teamId).executeTakeFirst();
      if (!cursor) throw badRequest('`after` names no subscription of this team', { code: 'unknown_cursor' });
    }
    const fullUrls = can(role, 'webhook-urls:read');
    return {
      status: 200,
      body: rows.map((row) => ({
        id: row.id,
        url: fullUrls ? row.url : redactWebhookUrl(row.url),
        events: LifecycleEventType.array().parse(row.events),
        createdAt: row.created_at.toISOString(),
      })),
    };
  },
});

const remove = route('delete', '/teams/:teamId/subscriptions/:subscriptionId', {
  summary: 'Delete a subscription (owner or admin); deliveries not yet sent to it are cancelled',
  permission: MANAGE,
  params: SubscriptionParams,
  responses: { 204: null },
  handler: ({ params, actor, services }) =>
    noContent(deleteSubscription(services, { teamId: params.teamId, subscriptionId: params.subscriptionId, actor, now: services.clock() })),
});

export const subscriptionRoutes = [create, list, remove];
