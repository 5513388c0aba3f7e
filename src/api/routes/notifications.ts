import { z } from 'zod';
import { resendNotification } from '../../commands/alerts.js';
import { Timestamp } from '../../domain/schemas.js';
import type { AlertNotificationsTable } from '../../projections/read-models.js';
import { notificationTargetFor } from '../redaction.js';
import { badRequest, notFoundProblem } from '../problem.js';
import { routeGroup } from '../routing.js';
import { pageLimit, TeamParams } from '../schemas.js';

const route = routeGroup({ tag: 'notifications' });

/** Pages that reached nobody, by what became of them. */
const UndeliveredStatus = z.enum(['failed', 'abandoned', 'unknown']);
type UndeliveredStatus = z.infer<typeof UndeliveredStatus>;

/** `failed`: the last attempt failed and a retry is scheduled; `abandoned`: no attempt is left; `unknown`: cut off mid-send. */
const storedStatus = { failed: 'retry_scheduled', abandoned: 'abandoned', unknown: 'unknown' } as const satisfies Record<
  UndeliveredStatus,
  AlertNotificationsTable['status']
>;
const undeliveredStatusOf = (status: string): UndeliveredStatus => (status === 'retry_scheduled' ? 'failed' : (status as UndeliveredStatus));

const UndeliveredPage = z.object({
  alertId: z.uuid(),
  deliveryId: z.uuid(),
  loop: z.int(),
  step: z.int(),
  target: z.unknown(),
  status: UndeliveredStatus,
  attempts: z.int(),
  lastError: z.string().nullable(),
  at: Timestamp,
});

const DeliveryParams = TeamParams.extend({ deliveryId: z.uuid() });

const listUndeliveredRoute = route('get', '/teams/:teamId/notifications', {
  permission: 'team:read',
  summary: 'The pages that reached nobody (failed, abandoned, or cut off mid-send) with the reason, newest first; viewers see webhook URLs redacted',
  params: TeamParams,
  query: z.object({
    status: UndeliveredStatus.optional(),
    limit: pageLimit(500, 100),
    /** The next page: the pages that changed before this one (the last delivery of the previous page). */
    before: z.uuid().optional(),
  }),
  responses: { 200: z.array(UndeliveredPage) },
  async handler({ params, query, role, services }) {
    const statuses = query.status ? [storedStatus[query.status]] : Object.values(storedStatus);
    let select = services.db
      .selectFrom('alert_notifications')
      .selectAll()
      .where('team_id', '=', params.teamId)
      .where('status', 'in', statuses);
    if (query.before) {
      const cursor = await services.db
        .selectFrom('alert_notifications')
        .select(['updated_at', 'delivery_id'])
        .where('delivery_id', '=', query.before)
        .where('team_id', '=', params.teamId)
        .executeTakeFirst();
      if (!cursor) throw badRequest('`before` names no notification of this team', { code: 'unknown_cursor' });
      select = select.where((where) =>
        where.or([
          where('updated_at', '<', cursor.updated_at),
          where.and([where('updated_at', '=', cursor.updated_at), where('delivery_id', '<', cursor.delivery_id)]),
        ]),
      );
    }
    const rows = await select.orderBy('updated_at', 'desc').orderBy('delivery_id', 'desc').limit(query.limit).execute();
    return {
      status: 200,
      body: rows.map((row) => ({
        alertId: row.alert_id,
        deliveryId: row.delivery_id,
        loop: row.loop,
        step: row.step,
        target: notificationTargetFor(role, row.target, row.recipient_user_id !== null),
        status: undeliveredStatusOf(row.status),
        attempts: row.attempts,
        lastError: row.last_error,
        at: row.updated_at.toISOString(),
      })),
    };
  },
});

const resendRoute = route('post', '/teams/:teamId/notifications/:deliveryId/resend', {
  permission: 'alerts:write',
  summary: 'Send a page that reached nobody again, under the same delivery id (and webhook-id); 409 once it was delivered',
  params: DeliveryParams,
  responses: { 202: z.object({ deliveryId: z.uuid(), alertId: z.uuid(), status: z.literal('pending') }) },
  async handler({ params, actor, services }) {
    const delivery = await services.db
      .selectFrom('alert_notifications')
      .select(['alert_id'])
      .where('delivery_id', '=', params.deliveryId)
      .where('team_id', '=', params.teamId)
      .executeTakeFirst();
    if (!delivery) throw notFoundProblem('notification not found');
    const resent = await resendNotification(services, {
      teamId: params.teamId,
      alertId: delivery.alert_id,
      deliveryId: params.deliveryId,
      actor,
      now: services.clock(),
    });
    return { status: 202, body: { deliveryId: params.deliveryId, alertId: delivery.alert_id, status: 'pending' as const }, position: resent.position };
  },
});

export const notificationRoutes = [listUndeliveredRoute, resendRoute];
