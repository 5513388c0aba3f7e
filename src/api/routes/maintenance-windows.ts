import { z } from 'zod';
import { createMaintenanceWindow, endMaintenanceWindow } from '../../commands/maintenance-windows.js';
import { MAX_REASON_LENGTH, MAX_WINDOW_FLOWS } from '../../domain/maintenance/decider.js';
import { Timestamp } from '../../domain/schemas.js';
import { openMaintenanceWindows } from '../../projections/queries/maintenance-windows.js';
import { badRequest } from '../problem.js';
import { routeGroup } from '../routing.js';
import { pageLimit, TeamParams } from '../schemas.js';

const route = routeGroup({ tag: 'maintenance-windows' });
const WRITE = { team: 'maintenance:write', source: 'stream' } as const;

const WindowParams = TeamParams.extend({ windowId: z.uuid() });

const MaintenanceWindowBody = z.strictObject({
  start: Timestamp,
  end: Timestamp,
  reason: z.string().max(MAX_REASON_LENGTH),
  /** Left out: every flow of the team. */
  flowIds: z.array(z.uuid()).min(1).max(MAX_WINDOW_FLOWS).optional(),
});

const MaintenanceWindowView = z.object({
  id: z.uuid(),
  start: Timestamp,
  end: Timestamp,
  reason: z.string(),
  flowIds: z.array(z.uuid()).nullable(),
});

const createWindowRoute = route('post', '/teams/:teamId/maintenance-windows', {
  permission: WRITE,
  summary: "Hold back the escalation of the team's alerts (or those of some flows) from start to end: they are recorded, suppressed, and page nobody until it ends",
  params: TeamParams,
  body: MaintenanceWindowBody,
  responses: { 201: MaintenanceWindowView },
  async handler({ params, body, actor, services }) {
    const created = await createMaintenanceWindow(services, { teamId: params.teamId, window: body, actor, now: services.clock() });
    return {
      status: 201,
      body: {
        id: created.windowId,
        start: new Date(body.start).toISOString(),
        end: new Date(body.end).toISOString(),
        reason: body.reason.trim(),
        flowIds: body.flowIds ?? null,
      },
      headers: { Location: `/teams/${params.teamId}/maintenance-windows/${created.windowId}` },
      position: created.position,
    };
  },
});

const listWindowsRoute = route('get', '/teams/:teamId/maintenance-windows', {
  permission: 'team:read',
  summary: "The team's current and future maintenance windows by start; the next page starts after the last one's id",
  params: TeamParams,
  query: z.object({ limit: pageLimit(100, 50), after: z.uuid().optional() }),
  responses: { 200: z.array(MaintenanceWindowView) },
  async handler({ params, query, services }) {
    let after: { start: Date; id: string } | undefined;
    if (query.after) {
      const cursor = await services.db
        .selectFrom('maintenance_windows')
        .select(['id', 'starts_at'])
        .where('id', '=', query.after)
        .where('team_id', '=', params.teamId)
        .executeTakeFirst();
      if (!cursor) throw badRequest('`after` names no maintenance window of this team', { code: 'unknown_cursor' });
      after = { start: cursor.starts_at, id: cursor.id };
    }
    const windows = await openMaintenanceWindows(services.db, params.teamId, services.clock(), { limit: query.limit, ...(after ? { after } : {}) });
    return {
      status: 200,
      body: windows.map((window) => ({
        id: window.id,
        start: window.start.toISOString(),
        end: window.end.toISOString(),
        reason: window.reason,
        flowIds: window.flowIds,
      })),
    };
  },
});

const deleteWindowRoute = route('delete', '/teams/:teamId/maintenance-windows/:windowId', {
  permission: WRITE,
  summary: 'End a maintenance window now (or drop one not started): the alerts it holds back start escalating at once',
  params: WindowParams,
  responses: { 200: z.object({ id: z.uuid(), endedAt: Timestamp }) },
  async handler({ params, actor, services }) {
    const now = services.clock();
    const ended = await endMaintenanceWindow(services, { teamId: params.teamId, windowId: params.windowId, actor, now });
    return { status: 200, body: { id: params.windowId, endedAt: now.toISOString() }, position: ended.position };
  },
});

export const maintenanceWindowRoutes = [createWindowRoute, listWindowsRoute, deleteWindowRoute];
