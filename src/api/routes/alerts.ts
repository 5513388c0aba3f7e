import { z } from 'zod';
import { actOnAlert, addAlertNote, type AlertAction, snoozeAlert, triggerAlert } from '../../commands/alerts.js';
import { countedRepeats } from '../../commands/alert-repeats.js';
import { alertStreamId } from '../../domain/alert/identity.js';
import { loadFlow } from '../../commands/flows.js';
import { MAX_SNOOZE_MINUTES } from '../../domain/alert/decider.js';
import { type AlertEvent, MAX_NOTE_LENGTH, Severity } from '../../domain/alert/events.js';
import type { TeamRole } from '../../domain/team/roles.js';
import { Timestamp } from '../../domain/schemas.js';
import { formatPosition } from '../../eventstore/types.js';
import { notificationTargetFor } from '../redaction.js';
import { badRequest, notFoundProblem } from '../problem.js';
import { routeGroup } from '../routing.js';
import { AlertParams, pageLimit, TeamParams } from '../schemas.js';

const route = routeGroup({ tag: 'alerts' });

const AlertStatus = z.enum(['triggered', 'acknowledged', 'resolved']);

const AlertSummary = z.object({
  id: z.uuid(),
  status: AlertStatus,
  flowId: z.uuid(),
  summary: z.string(),
  severity: z.string(),
  dedupKey: z.string().nullable(),
  dedupCount: z.int(),
  triggeredAt: Timestamp,
  updatedAt: Timestamp,
  /** Held back by a maintenance window: it pages nobody until its escalation starts. */
  suppressed: z.boolean(),
});

const Notification = z.object({
  id: z.uuid(),
  loop: z.int(),
  step: z.int(),
  target: z.unknown(),
  status: z.string(),
  attempts: z.int(),
  lastError: z.string().nullable(),
});

const AlertNote = z.object({ id: z.uuid(), text: z.string(), by: z.string(), at: Timestamp });

/** The notes shown with an alert: its latest, newest last; all of them are in its timeline. */
const NOTES_SHOWN = 100;

const AlertDetail = z.object({
  id: z.uuid(),
  status: AlertStatus,
  flowId: z.uuid(),
  flowVersion: z.int(),
  summary: z.string(),
  details: z.unknown(),
  severity: z.string(),
  dedupKey: z.string().nullable(),
  dedupCount: z.int(),
  currentLoop: z.int().nullable(),
  currentStep: z.int().nullable(),
  nextEscalationAt: Timestamp.nullable(),
  exhausted: z.boolean(),
  triggeredAt: Timestamp,
  acknowledgedAt: Timestamp.nullable(),
  acknowledgedBy: z.string().nullable(),
  resolvedAt: Timestamp.nullable(),
  resolvedBy: z.string().nullable(),
  snoozedUntil: Timestamp.nullable(),
  ackTimeoutAt: Timestamp.nullable(),
  notifications: z.array(Notification),
  noteCount: z.int(),
  notes: z.array(AlertNote),
  suppressed: z.boolean(),
  /** The maintenance window holding it back and when its escalation starts; null when none does. */
  suppression: z.object({ windowId: z.uuid(), until: Timestamp }).nullable(),
});

/** Held back until the window's end; the alert's first step then fires (with any delay it has). */
function suppressionOf(alert: { suppressed_by: string | null; suppressed_until: Date | null }, now: Date) {
  if (alert.suppressed_by === null || alert.suppressed_until === null || alert.suppressed_until.getTime() <= now.getTime()) return null;
  return { windowId: alert.suppressed_by, until: alert.suppressed_until.toISOString() };
}

const TimelineEntry = z.object({
  /** The event's number in the alert's stream, from 0: the next page starts after the last one seen. */
  version: z.int(),
  position: z.string(),
  at: Timestamp,
  type: z.string(),
  actor: z.string(),
  data: z.unknown(),
});

const TriggerAlertBody = z.strictObject({
  flowId: z.uuid(),
  summary: z.string().trim().min(1).max(1024),
  details: z.unknown().optional(),
  severity: Severity.default('error'),
  dedupKey: z.string().min(1).max(255).optional(),
});

const TriggerAlertResponse = z.object({ id: z.uuid(), status: AlertStatus, deduplicated: z.boolean() });

const triggerAlertRoute = route('post', '/teams/:teamId/alerts', {
  summary: 'Trigger an alert on a flow; a trigger whose dedup key matches an open alert is folded into it',
  permission: 'alerts:write',
  params: TeamParams,
  body: TriggerAlertBody,
  responses: { 201: TriggerAlertResponse, 200: TriggerAlertResponse, 429: null },
  async handler({ params, body, actor, services }) {
    const flow = await loadFlow(services, body.flowId);
    if (!flow || flow.teamId !== params.teamId) throw notFoundProblem('flow not found');
    await services.triggerQuota.admit(params.teamId, 1, services.clock());
    const result = await triggerAlert(services, {
      teamId: params.teamId,
      flow,
      summary: body.summary,
      details: body.details ?? null,
      severity: body.severity,
      dedupKey: body.dedupKey ?? null,
      source: 'api',
      actor,
      now: services.clock(),
    });
    return {
      status: result.deduplicated ? 200 : 201,
      body: { id: result.alertId, status: result.status, deduplicated: result.deduplicated },
      position: result.position,
    };
  },
});

const listAlerts = route('get', '/teams/:teamId/alerts', {
  summary: "List the team's alerts, newest first",
  permission: 'team:read',
  params: TeamParams,
  query: z.object({
    status: AlertStatus.optional(),
    limit: pageLimit(500, 100),
    /** The next page: the alerts triggered before this one (the last alert of the previous page). */
    before: z.uuid().optional(),
  }),
  responses: { 200: z.array(AlertSummary) },
  async handler({ params, query, services }) {
    let select = services.db.selectFrom('alerts').selectAll().where('team_id', '=', params.teamId);
    if (query.status) select = select.where('status', '=', query.status);
    if (query.before) {
      const cursor = await services.db
        .selectFrom('alerts')
        .select(['triggered_at', 'id'])
        .where('id', '=', query.before)
        .where('team_id', '=', params.teamId)
        .executeTakeFirst();
      if (!cursor) throw badRequest('`before` names no alert of this team', { code: 'unknown_cursor' });
      select = select.where((where) =>
        where.or([where('triggered_at', '<', cursor.triggered_at), where.and([where('triggered_at', '=', cursor.triggered_at), where('id', '<', cursor.id)])]),
      );
    }
    const rows = await select.orderBy('triggered_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
    const repeats = await countedRepeats(services.pool, rows.map((row) => row.id));
    const now = services.clock();
    return {
      status: 200,
      body: rows.map((row) => ({
        id: row.id,
        status: row.status,
        flowId: row.flow_id,
        summary: row.summary,
        severity: row.severity,
        dedupKey: row.dedup_key,
        dedupCount: Math.max(repeats.get(row.id) ?? 0, row.dedup_count),
        triggeredAt: row.triggered_at.toISOString(),
        updatedAt: row.updated_at.toISOString(),
        suppressed: suppressionOf(row, now) !== null,
      })),
    };
  },
});

const getAlert = route('get', '/teams/:teamId/alerts/:alertId', {
  summary: 'An alert with its escalation progress and notifications (viewers see webhook URLs redacted)',
  permission: 'team:read',
  params: AlertParams,
  responses: { 200: AlertDetail },
  async handler({ params, role, services }) {
    const alert = await services.db
      .selectFrom('alerts')
      .selectAll()
      .where('id', '=', params.alertId)
      .where('team_id', '=', params.teamId)
      .executeTakeFirst();
    if (!alert) throw notFoundProblem('alert not found');
    const notifications = await services.db
      .selectFrom('alert_notifications')
      .selectAll()
      .where('alert_id', '=', alert.id)
      .orderBy('requested_at')
      .execute();
    const notes = await services.db
      .selectFrom('alert_notes')
      .select(['id', 'text', 'author', 'created_at'])
      .where('alert_id', '=', alert.id)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(NOTES_SHOWN)
      .execute();
    const repeats = await countedRepeats(services.pool, [alert.id]);
    const iso = (date: Date | null) => date?.toISOString() ?? null;
    const suppression = suppressionOf(alert, services.clock());
    return {
      status: 200,
      body: {
        id: alert.id,
        status: alert.status,
        flowId: alert.flow_id,
        flowVersion: alert.flow_version,
        summary: alert.summary,
        details: alert.details,
        severity: alert.severity,
        dedupKey: alert.dedup_key,
        dedupCount: Math.max(repeats.get(alert.id) ?? 0, alert.dedup_count),
        currentLoop: alert.current_loop,
        currentStep: alert.current_step,
        nextEscalationAt: iso(alert.next_escalation_at),
        exhausted: alert.exhausted,
        triggeredAt: alert.triggered_at.toISOString(),
        acknowledgedAt: iso(alert.acknowledged_at),
        acknowledgedBy: alert.acknowledged_by,
        resolvedAt: iso(alert.resolved_at),
        resolvedBy: alert.resolved_by,
        snoozedUntil: iso(alert.snoozed_until),
        ackTimeoutAt: iso(alert.ack_timeout_at),
        notifications: notifications.map((row) => ({
          id: row.delivery_id,
          loop: row.loop,
          step: row.step,
          target: notificationTargetFor(role, row.target, row.recipient_user_id !== null),
          status: row.status,
          attempts: row.attempts,
          lastError: row.last_error,
        })),
        noteCount: alert.note_count,
        notes: notes.reverse().map((note) => ({ id: note.id, text: note.text, by: note.author, at: note.created_at.toISOString() })),
        suppressed: suppression !== null,
        suppression,
      },
    };
  },
});

function alertActionRoute(action: AlertAction, summary: string) {
  return route('post', `/teams/:teamId/alerts/:alertId/${action}`, {
    summary,
    permission: 'alerts:write',
    params: AlertParams,
    responses: { 200: z.object({ id: z.uuid(), status: AlertStatus, changed: z.boolean() }) },
    async handler({ params, actor, services }) {
      const result = await actOnAlert(services, { teamId: params.teamId, alertId: params.alertId, action, actor, now: services.clock() });
      return { status: 200, body: { id: params.alertId, status: result.status, changed: result.changed }, position: result.position };
    },
  });
}

const snoozeRoute = route('post', '/teams/:teamId/alerts/:alertId/snooze', {
  summary: `Snooze: acknowledged for \`minutes\` (1 to ${MAX_SNOOZE_MINUTES}), then triggered again from the first step unless resolved first`,
  permission: 'alerts:write',
  params: AlertParams,
  body: z.strictObject({ minutes: z.int().min(1).max(MAX_SNOOZE_MINUTES) }),
  responses: { 200: z.object({ id: z.uuid(), status: AlertStatus, snoozedUntil: Timestamp }) },
  async handler({ params, body, actor, services }) {
    const result = await snoozeAlert(services, { ...params, minutes: body.minutes, actor, now: services.clock() });
    return { status: 200, body: { id: params.alertId, status: result.status, snoozedUntil: result.snoozedUntil }, position: result.position };
  },
});

const addNoteRoute = route('post', '/teams/:teamId/alerts/:alertId/notes', {
  summary: `Add a note (1 to ${MAX_NOTE_LENGTH} characters) to the alert; it shows in the alert and its timeline with author and time`,
  permission: 'alerts:write',
  params: AlertParams,
  body: z.strictObject({ text: z.string().trim().min(1).max(MAX_NOTE_LENGTH) }),
  responses: { 201: AlertNote },
  async handler({ params, body, actor, services }) {
    const note = await addAlertNote(services, { ...params, text: body.text, actor, now: services.clock() });
    return { status: 201, body: { id: note.noteId, text: note.text, by: actor, at: note.at }, position: note.position };
  },
});

const alertTimeline = route('get', '/teams/:teamId/alerts/:alertId/timeline', {
  summary: 'Every event of the alert in order, with time, actor and data (due and fire times included; viewers see webhook URLs redacted)',
  permission: 'team:read',
  params: AlertParams,
  query: z.object({
    limit: pageLimit(1000, 500),
    /** The next page: the events after this version (the last entry's `version` on the previous page). */
    after: z.coerce.number().int().min(0).max(2 ** 31 - 1).optional(),
  }),
  responses: { 200: z.array(TimelineEntry) },
  async handler({ params, query, role, services }) {
    const streamId = alertStreamId(params.alertId);
    const fromVersion = query.after === undefined ? 0 : query.after + 1;
    const events = await services.eventStore.readStream(streamId, { fromVersion, maxCount: query.limit });
    const first = fromVersion === 0 ? events[0] : (await services.eventStore.readStream(streamId, { maxCount: 1 }))[0];
    if (first?.metadata.teamId !== params.teamId) throw notFoundProblem('alert not found');
    return {
      status: 200,
      body: events.map((event) => ({
        version: event.streamVersion,
        position: formatPosition(event.position),
        at: event.recordedAt.toISOString(),
        type: event.type,
        actor: event.metadata.actor,
        data: eventDataFor(role, services.catalog.parse<AlertEvent>(event)),
      })),
    };
  },
});

/** An event's data as the team may see it (see notificationTargetFor). */
function eventDataFor(role: TeamRole, event: AlertEvent): unknown {
  const personal = event.type === 'NotificationRequested' && event.data.recipient !== undefined;
  return notificationTargetFor(role, event.data, personal);
}

export const alertRoutes = [
  triggerAlertRoute,
  listAlerts,
  getAlert,
  snoozeRoute,
  addNoteRoute,
  alertActionRoute('acknowledge', 'Acknowledge: stop escalating (idempotent)'),
  alertActionRoute('resolve', 'Resolve: close the alert (idempotent)'),
  alertActionRoute('escalate', 'Escalate now: make the pending step due at once'),
  alertTimeline,
];
