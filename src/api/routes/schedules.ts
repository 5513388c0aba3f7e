import { z } from 'zod';
import {
  addScheduleOverride,
  createSchedule,
  deleteSchedule,
  removeScheduleOverride,
  type ScheduleChange,
  updateSchedule,
} from '../../commands/schedules.js';
import { OverrideInput, Rotation, ScheduleInput, SchedulePatch, type ScheduleDefinition } from '../../domain/schedule/definition.js';
import { MAX_SHIFT_RANGE_DAYS, onCallAt, shiftsBetween } from '../../domain/schedule/on-call.js';
import type { ApiServices } from '../services.js';
import { etag } from '../if-match.js';
import { badRequest, notFoundProblem } from '../problem.js';
import { routeGroup } from '../routing.js';
import { type EditCaller, versionedEdit, type VersionedEditSpec } from '../versioned-edit.js';
import { TeamParams } from '../schemas.js';

const Instant = z.iso.datetime({ offset: true });
const ScheduleParams = TeamParams.extend({ scheduleId: z.uuid() });
const OverrideParams = ScheduleParams.extend({ overrideId: z.uuid() });

const route = routeGroup({ tag: 'schedules' });
const WRITE = { team: 'schedules:write', source: 'stream' } as const;

const IdAndVersion = z.object({ id: z.uuid(), version: z.int() });
const OverrideView = z.object({ id: z.uuid(), userId: z.uuid(), start: z.string(), end: z.string() });
const ScheduleSummary = z.object({ id: z.uuid(), name: z.string(), timeZone: z.string(), version: z.int() });
const ScheduleDetail = ScheduleSummary.extend({ rotations: z.array(Rotation), overrides: z.array(OverrideView) });
const OnCallUser = z.object({ userId: z.uuid(), name: z.string().nullable() });
const OnCallView = z.object({ at: z.string(), users: z.array(OnCallUser), until: z.string().nullable(), source: z.string().nullable() });
const ShiftView = z.object({ start: z.string(), end: z.string(), users: z.array(OnCallUser), source: z.string().nullable() });

const DAY_MS = 86_400_000;
const DEFAULT_SHIFT_RANGE_DAYS = 7;
/** Overrides a detail view lists: those not ended yet, at most as many as a schedule may hold. */
const LISTED_OVERRIDES = 500;

/** Who edits which schedule, when, and the version they last saw: what every edit of an existing schedule names. */
interface ScheduleEdit extends EditCaller {
  teamId: string;
  scheduleId: string;
  now: Date;
}

/** A change to an existing schedule (see versionedEdit). */
function scheduleEditRoute<Params extends z.infer<typeof ScheduleParams>, Body = undefined, Change extends ScheduleChange = ScheduleChange>(
  method: 'post' | 'patch' | 'delete',
  path: string,
  spec: VersionedEditSpec<Params, Body, ScheduleEdit, Change>,
) {
  const scheduleOf = (params: Params, caller: EditCaller, services: ApiServices): ScheduleEdit => ({
    teamId: params.teamId,
    scheduleId: params.scheduleId,
    now: services.clock(),
    ...caller,
  });
  return route(method, path, versionedEdit('schedule', WRITE.team, scheduleOf, spec));
}

/** The schedule as the read model has it, with the overrides that end after `from`; null when not the team's. */
async function readSchedule(services: ApiServices, teamId: string, scheduleId: string, from: Date, limit?: number) {
  const schedule = await services.db
    .selectFrom('schedules')
    .selectAll()
    .where('id', '=', scheduleId)
    .where('team_id', '=', teamId)
    .executeTakeFirst();
  if (!schedule) return null;
  let overrides = services.db
    .selectFrom('schedule_overrides')
    .select(['id', 'user_id', 'starts_at', 'ends_at'])
    .where('schedule_id', '=', scheduleId)
    .where('ends_at', '>', from)
    .orderBy('created_at')
    .orderBy('id');
  if (limit !== undefined) overrides = overrides.limit(limit);
  const rows = await overrides.execute();
  const definition: ScheduleDefinition = {
    timeZone: schedule.time_zone,
    rotations: schedule.rotations,
    overrides: rows.map((row) => ({ id: row.id, userId: row.user_id, start: row.starts_at.toISOString(), end: row.ends_at.toISOString() })),
  };
  return { schedule, definition };
}

async function namesOf(services: ApiServices, userIds: Iterable<string>): Promise<(userId: string) => { userId: string; name: string | null }> {
  const unique = [...new Set(userIds)];
  const users = unique.length === 0 ? [] : await services.db.selectFrom('users').select(['id', 'name']).where('id', 'in', unique).execute();
  const names = new Map(users.map((user) => [user.id, user.name]));
  return (userId) => ({ userId, name: names.get(userId) ?? null });
}

const createScheduleRoute = route('post', '/teams/:teamId/schedules', {
  permission: WRITE,
  summary: 'Create an on-call schedule: a time zone and ordered rotations (later ones win where they have someone on shift)',
  params: TeamParams,
  body: ScheduleInput,
  versioned: { resource: 'schedule' },
  responses: { 201: IdAndVersion },
  async handler({ params, body, actor, services }) {
    const created = await createSchedule(services, { teamId: params.teamId, schedule: body, actor, now: services.clock() });
    return {
      status: 201,
      body: { id: created.scheduleId, version: created.version },
      headers: { ...etag(created.version), Location: `/teams/${params.teamId}/schedules/${created.scheduleId}` },
      position: created.position,
    };
  },
});

const listSchedulesRoute = route('get', '/teams/:teamId/schedules', {
  permission: 'team:read',
  summary: "The team's schedules by name; the next page starts after the last one's id",
  params: TeamParams,
  query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(100), after: z.uuid().optional() }),
  responses: { 200: z.array(ScheduleSummary) },
  async handler({ params, query, services }) {
    let select = services.db.selectFrom('schedules').select(['id', 'name', 'time_zone', 'version']).where('team_id', '=', params.teamId);
    if (query.after) {
      const cursor = await services.db
        .selectFrom('schedules')
        .select(['name', 'id'])
        .where('id', '=', query.after)
        .where('team_id', '=', params.teamId)
        .executeTakeFirst();
      if (!cursor) throw badRequest('`after` names no schedule of this team', { code: 'unknown_cursor' });
      select = select.where((where) =>
        where.or([where('name', '>', cursor.name), where.and([where('name', '=', cursor.name), where('id', '>', cursor.id)])]),
      );
    }
    const rows = await select.orderBy('name').orderBy('id').limit(query.limit).execute();
    return { status: 200, body: rows.map((row) => ({ id: row.id, name: row.name, timeZone: row.time_zone, version: row.version })) };
  },
});

const getScheduleRoute = route('get', '/teams/:teamId/schedules/:scheduleId', {
  permission: 'team:read',
  summary: 'A schedule with its rotations and the overrides not ended yet; the ETag is its version, for If-Match on edits',
  params: ScheduleParams,
  versioned: { resource: 'schedule' },
  responses: { 200: ScheduleDetail },
  async handler({ params, services }) {
    const found = await readSchedule(services, params.teamId, params.scheduleId, services.clock(), LISTED_OVERRIDES);
    if (!found) throw notFoundProblem('schedule not found');
    const { schedule, definition } = found;
    return {
      status: 200,
      body: {
        id: schedule.id,
        name: schedule.name,
        timeZone: schedule.time_zone,
        version: schedule.version,
        rotations: schedule.rotations,
        overrides: [...definition.overrides],
      },
      headers: etag(schedule.version),
    };
  },
});

const updateScheduleRoute = scheduleEditRoute('patch', '/teams/:teamId/schedules/:scheduleId', {
  summary: "Change a schedule's name, time zone or rotations (the whole ordered list); honours If-Match",
  params: ScheduleParams,
  body: SchedulePatch,
  command: ({ body, services }, edit) => updateSchedule(services, { ...edit, patch: body }),
  names: (params) => params.scheduleId,
});

const deleteScheduleRoute = scheduleEditRoute('delete', '/teams/:teamId/schedules/:scheduleId', {
  summary: 'Delete a schedule no flow pages (409 while one does); honours If-Match',
  params: ScheduleParams,
  command: ({ services }, edit) => deleteSchedule(services, edit),
  names: (params) => params.scheduleId,
});

const addOverrideRoute = scheduleEditRoute('post', '/teams/:teamId/schedules/:scheduleId/overrides', {
  summary: 'Put a member on call in place of whoever the rotations have, from start until end',
  params: ScheduleParams,
  body: OverrideInput,
  status: 201,
  command: ({ body, services }, edit) => addScheduleOverride(services, { ...edit, override: body }),
  names: (_params, change) => change.overrideId,
});

const removeOverrideRoute = scheduleEditRoute('delete', '/teams/:teamId/schedules/:scheduleId/overrides/:overrideId', {
  summary: 'Remove an override',
  params: OverrideParams,
  command: ({ params, services }, edit) => removeScheduleOverride(services, { ...edit, overrideId: params.overrideId }),
  names: (params) => params.overrideId,
});

const onCallRoute = route('get', '/teams/:teamId/schedules/:scheduleId/on-call', {
  permission: 'team:read',
  summary: 'Who is on call at an instant (default: now), until when, and from which rotation or override',
  params: ScheduleParams,
  query: z.object({ at: Instant.optional() }),
  responses: { 200: OnCallView },
  async handler({ params, query, services }) {
    const at = query.at ? new Date(query.at) : services.clock();
    const found = await readSchedule(services, params.teamId, params.scheduleId, at);
    if (!found) throw notFoundProblem('schedule not found');
    const onCall = onCallAt(found.definition, at);
    const named = await namesOf(services, onCall.users);
    return {
      status: 200,
      body: { at: at.toISOString(), users: onCall.users.map(named), until: onCall.until?.toISOString() ?? null, source: onCall.source },
    };
  },
});

const shiftsRoute = route('get', '/teams/:teamId/schedules/:scheduleId/shifts', {
  permission: 'team:read',
  summary: `The shifts from \`from\` (default now) to \`to\` (default a week later) in order, gaps included (nobody on call), at most ${MAX_SHIFT_RANGE_DAYS} days per call`,
  params: ScheduleParams,
  query: z.object({ from: Instant.optional(), to: Instant.optional() }),
  responses: { 200: z.array(ShiftView) },
  async handler({ params, query, services }) {
    const from = query.from ? new Date(query.from) : services.clock();
    const to = query.to ? new Date(query.to) : new Date(from.getTime() + DEFAULT_SHIFT_RANGE_DAYS * DAY_MS);
    const rangeRefused = (message: string, code: string) => badRequest(message, { code, errors: [{ path: 'query.to', message }] });
    if (to.getTime() <= from.getTime()) throw rangeRefused('`to` must be after `from`', 'invalid_shift_range');
    if (to.getTime() - from.getTime() > MAX_SHIFT_RANGE_DAYS * DAY_MS) {
      throw rangeRefused(`at most ${MAX_SHIFT_RANGE_DAYS} days per call`, 'shift_range_too_long');
    }
    const found = await readSchedule(services, params.teamId, params.scheduleId, from);
    if (!found) throw notFoundProblem('schedule not found');
    const shifts = shiftsBetween(found.definition, from, to);
    const named = await namesOf(services, shifts.flatMap((shift) => shift.users));
    return {
      status: 200,
      body: shifts.map((shift) => ({
        start: shift.start.toISOString(),
        end: shift.end.toISOString(),
        users: shift.users.map(named),
        source: shift.source,
      })),
    };
  },
});

export const scheduleRoutes = [
  createScheduleRoute,
  listSchedulesRoute,
  getScheduleRoute,
  updateScheduleRoute,
  addOverrideRoute,
  removeOverrideRoute,
  deleteScheduleRoute,
  onCallRoute,
  shiftsRoute,
];
