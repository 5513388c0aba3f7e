import { z } from 'zod';
import { NodeTarget } from '../flow/node.js';
import { Timestamp } from '../schemas.js';
import { type AlertEvent, alertEventDefinitions, Severity } from './events.js';

/** One event of the alert's stream as the report reads it: data parsed and upcast when the catalog knows the type, as stored otherwise. */
export interface ReportEvent {
  /** The event's number in the alert's stream, from 0. */
  version: number;
  /** When it was recorded. */
  at: string;
  type: string;
  actor: string;
  data: unknown;
}

const Person = z.object({ userId: z.uuid(), name: z.string().nullable() });
/** Who did something: `user:<id>`, `integration:<key>`, `system:<part>`, …, with the user's name where known. */
const Actor = z.object({ actor: z.string(), name: z.string().nullable() });

const Attempt = z.object({
  attempt: z.int(),
  startedAt: Timestamp,
  /** `in_flight`: started and no outcome recorded (yet). */
  outcome: z.enum(['in_flight', 'delivered', 'failed', 'unknown']),
  outcomeAt: Timestamp.nullable(),
  error: z.string().nullable(),
  detail: z.string().nullable(),
  retryAt: Timestamp.nullable(),
});

const PageStatus = z.enum(['pending', 'in_flight', 'retry_scheduled', 'delivered', 'abandoned', 'cancelled']);

const Page = z.object({
  deliveryId: z.uuid(),
  /** The channel: a webhook, an e-mail address, or a user's account e-mail (`user`). */
  channel: z.enum(['user', 'email', 'webhook', 'schedule']),
  target: NodeTarget,
  /** The person this page is for (a user step, a person on call, a person's notification rule); null for a flow's own address. */
  recipient: Person.nullable(),
  /** A notification rule with a delay: not sent before. */
  notBefore: Timestamp.nullable(),
  status: PageStatus,
  attempts: z.array(Attempt),
  deliveredAt: Timestamp.nullable(),
  cancelled: z.object({ reason: z.string(), at: Timestamp }).nullable(),
  resends: z.array(z.object({ by: Actor, at: Timestamp })),
});

const Step = z.object({
  epoch: z.int(),
  loop: z.int(),
  step: z.int(),
  nodeId: z.uuid(),
  /** The pinned node's name; null when the node is not among the pinned steps. */
  name: z.string().nullable(),
  target: NodeTarget.nullable(),
  dueAt: Timestamp,
  firedAt: Timestamp,
  lagMs: z.number(),
  onCall: z.object({ scheduleId: z.uuid(), users: z.array(Person), reason: z.string().nullable() }).nullable(),
  pages: z.array(Page),
});

const LifecycleChange = z.object({
  at: Timestamp,
  change: z.enum(['acknowledged', 'resolved', 'escalated', 'snoozed', 'snooze_ended', 'acknowledgement_timed_out', 'exhausted']),
  by: Actor.nullable(),
  /** A snooze: until when. */
  until: Timestamp.nullable(),
});

const Note = z.object({ noteId: z.string(), text: z.string(), by: Actor, at: Timestamp });

const TimelineEntry = z.object({ version: z.int(), at: Timestamp, type: z.string(), actor: z.string(), data: z.unknown() });

/** One reviewable account of an alert, folded from its stream. Durations are in milliseconds. */
export const IncidentReport = z.object({
  alert: z.object({
    id: z.uuid(),
    teamId: z.uuid(),
    summary: z.string(),
    details: z.unknown(),
    severity: Severity,
    source: z.string().nullable(),
    dedupKey: z.string().nullable(),
    status: z.enum(['triggered', 'acknowledged', 'resolved']),
  }),
  /** The flow version the alert ran on, with its steps as they were pinned when it was triggered. */
  flow: z.object({
    id: z.uuid(),
    version: z.int(),
    repeat: z.int(),
    steps: z.array(z.object({ nodeId: z.uuid(), name: z.string(), delaySeconds: z.number(), target: NodeTarget })),
  }),
  triggeredAt: Timestamp,
  /** The first acknowledgement. */
  acknowledgedAt: Timestamp.nullable(),
  acknowledgedBy: Actor.nullable(),
  resolvedAt: Timestamp.nullable(),
  resolvedBy: Actor.nullable(),
  timeToAcknowledgeMs: z.number().nullable(),
  timeToResolveMs: z.number().nullable(),
  /** Triggers folded into the alert by its dedup key, as its stream records them. */
  repeats: z.object({ count: z.int(), lastAt: Timestamp.nullable() }),
  steps: z.array(Step),
  /** The step waiting for its timer when the stream ends. */
  nextStep: z.object({ loop: z.int(), step: z.int(), dueAt: Timestamp }).nullable(),
  lifecycle: z.array(LifecycleChange),
  notes: z.array(Note),
  /** Every event of the stream, those this report does not otherwise read included. */
  timeline: z.array(TimelineEntry),
  /** False when the stream holds more events than one report reads: the report stops at the last one read. */
  complete: z.boolean(),
});
export type IncidentReport = z.infer<typeof IncidentReport>;
type Page = z.infer<typeof Page>;
type Step = z.infer<typeof Step>;
type Attempt = z.infer<typeof Attempt>;

const USER_ACTOR = /^user:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Every user the events name (actors, targets, people on call, recipients): whose names a report shows. */
export function usersNamedIn(events: readonly ReportEvent[]): string[] {
  const found = new Set<string>();
  const visit = (value: unknown, key: string | null): void => {
    if (typeof value === 'string') {
      const actor = USER_ACTOR.exec(value);
      if (actor) found.add(actor[1]!.toLowerCase());
      else if ((key === 'userId' || key === 'userIds') && UUID.test(value)) found.add(value.toLowerCase());
    } else if (Array.isArray(value)) {
      for (const item of value) visit(item, key);
    } else if (value !== null && typeof value === 'object') {
      for (const [inner, innerValue] of Object.entries(value)) visit(innerValue, inner);
    }
  };
  for (const event of events) {
    visit(event.actor, null);
    visit(event.data, null);
  }
  return [...found];
}

const known = (event: ReportEvent): AlertEvent | null =>
  Object.hasOwn(alertEventDefinitions, event.type) ? ({ type: event.type, data: event.data } as AlertEvent) : null;

const between = (from: string, to: string | null) => (to === null ? null : Date.parse(to) - Date.parse(from));

/**
 * The report of an alert from its stream, in order. `nameOf` gives a user's name where the read model has one.
 * Returns null for a stream that does not start with the alert's trigger.
 */
export function incidentReport(
  events: readonly ReportEvent[],
  nameOf: (userId: string) => string | null,
  options: { complete: boolean } = { complete: true },
): IncidentReport | null {
  const first = events[0] && known(events[0]);
  if (first?.type !== 'AlertTriggered') return null;
  const trigger = first.data;
  const actor = (who: string) => {
    const user = USER_ACTOR.exec(who);
    return { actor: who, name: user ? nameOf(user[1]!.toLowerCase()) : null };
  };
  const person = (userId: string) => ({ userId, name: nameOf(userId.toLowerCase()) });
  const nodes = new Map(trigger.steps.map((node) => [node.id, node]));

  let status: IncidentReport['alert']['status'] = 'triggered';
  let acknowledged: { at: string; by: string } | null = null;
  let resolved: { at: string; by: string } | null = null;
  let repeats: IncidentReport['repeats'] = { count: 0, lastAt: null };
  let nextStep: IncidentReport['nextStep'] = null;
  const steps: Step[] = [];
  const pages = new Map<string, Page>();
  const lifecycle: IncidentReport['lifecycle'] = [];
  const notes: IncidentReport['notes'] = [];
  const change = (at: string, what: IncidentReport['lifecycle'][number]['change'], by: string | null, until: string | null = null) =>
    lifecycle.push({ at, change: what, by: by === null ? null : actor(by), until });

  const settle = (deliveryId: string, attempt: number, outcome: Partial<Attempt>) => {
    const started = pages.get(deliveryId)?.attempts.find((entry) => entry.attempt === attempt);
    if (started) Object.assign(started, outcome);
  };

  for (const event of events.slice(1)) {
    const alertEvent = known(event);
    if (!alertEvent) continue;
    switch (alertEvent.type) {
      case 'AlertTriggered':
        break;
      case 'AlertDeduplicated':
        repeats = { count: alertEvent.data.dedupCount, lastAt: alertEvent.data.at };
        break;
      case 'EscalationStepScheduled': {
        const { loop, step, dueAt } = alertEvent.data;
        nextStep = { loop, step, dueAt };
        break;
      }
      case 'EscalationStepFired': {
        const e = alertEvent.data;
        nextStep = null;
        const node = nodes.get(e.nodeId);
        steps.push({
          epoch: e.epoch,
          loop: e.loop,
          step: e.step,
          nodeId: e.nodeId,
          name: node?.name ?? null,
          target: node?.target ?? null,
          dueAt: e.dueAt,
          firedAt: e.firedAt,
          lagMs: e.lagMs,
          onCall: e.onCall ? { scheduleId: e.onCall.scheduleId, users: e.onCall.userIds.map(person), reason: e.onCall.reason } : null,
          pages: [],
        });
        break;
      }
      case 'NotificationRequested': {
        const e = alertEvent.data;
        const recipient = e.recipient?.userId ?? (e.target.type === 'user' ? e.target.userId : null);
        const page: Page = {
          deliveryId: e.deliveryId,
          channel: e.target.type,
          target: e.target,
          recipient: recipient === null ? null : person(recipient),
          notBefore: e.notBefore ?? null,
          status: 'pending',
          attempts: [],
          deliveredAt: null,
          cancelled: null,
          resends: [],
        };
        pages.set(e.deliveryId, page);
        // A step's pages are requested with it: they belong to the latest firing of that step.
        const fired = steps.findLast((step) => step.loop === e.loop && step.step === e.step);
        fired?.pages.push(page);
        break;
      }
      case 'NotificationAttemptStarted': {
        const e = alertEvent.data;
        const page = pages.get(e.deliveryId);
        if (!page) break;
        page.status = 'in_flight';
        page.attempts.push({ attempt: e.attempt, startedAt: e.startedAt, outcome: 'in_flight', outcomeAt: null, error: null, detail: null, retryAt: null });
        break;
      }
      case 'NotificationDelivered': {
        const e = alertEvent.data;
        const page = pages.get(e.deliveryId);
        if (!page) break;
        page.status = 'delivered';
        page.deliveredAt = e.deliveredAt;
        settle(e.deliveryId, e.attempt, { outcome: 'delivered', outcomeAt: e.deliveredAt, detail: e.detail });
        break;
      }
      case 'NotificationFailed': {
        const e = alertEvent.data;
        const page = pages.get(e.deliveryId);
        if (!page) break;
        page.status = e.retryAt ? 'retry_scheduled' : 'abandoned';
        settle(e.deliveryId, e.attempt, { outcome: 'failed', outcomeAt: e.failedAt, error: e.error, retryAt: e.retryAt });
        break;
      }
      case 'NotificationOutcomeUnknown': {
        const e = alertEvent.data;
        settle(e.deliveryId, e.attempt, { outcome: 'unknown', outcomeAt: e.at, detail: `resolved by policy: ${e.policy}` });
        break;
      }
      case 'NotificationCancelled': {
        const e = alertEvent.data;
        const page = pages.get(e.deliveryId);
        if (!page) break;
        page.status = 'cancelled';
        page.cancelled = { reason: e.reason, at: e.at };
        break;
      }
      case 'EscalationExhausted':
        nextStep = null;
        change(alertEvent.data.at, 'exhausted', null);
        break;
      case 'AlertAcknowledged':
        status = 'acknowledged';
        nextStep = null;
        acknowledged ??= { at: alertEvent.data.at, by: alertEvent.data.by };
        change(alertEvent.data.at, 'acknowledged', alertEvent.data.by);
        break;
      case 'AlertResolved':
        status = 'resolved';
        nextStep = null;
        resolved ??= { at: alertEvent.data.at, by: alertEvent.data.by };
        change(alertEvent.data.at, 'resolved', alertEvent.data.by);
        break;
      case 'AlertEscalatedManually':
        change(alertEvent.data.at, 'escalated', alertEvent.data.by);
        break;
      case 'AlertSnoozed':
        status = 'acknowledged';
        nextStep = null;
        change(alertEvent.data.at, 'snoozed', alertEvent.data.by, alertEvent.data.until);
        break;
      case 'SnoozeEnded':
        status = 'triggered';
        change(alertEvent.data.at, 'snooze_ended', null);
        break;
      case 'AcknowledgementTimedOut':
        status = 'triggered';
        change(alertEvent.data.at, 'acknowledgement_timed_out', null);
        break;
      case 'AlertNoteAdded': {
        const { noteId, text, by, at } = alertEvent.data;
        notes.push({ noteId, text, by: actor(by), at });
        break;
      }
      case 'NotificationResendRequested':
        pages.get(alertEvent.data.deliveryId)?.resends.push({ by: actor(alertEvent.data.by), at: alertEvent.data.at });
        break;
    }
  }

  return {
    alert: {
      id: trigger.alertId,
      teamId: trigger.teamId,
      summary: trigger.summary,
      details: trigger.details,
      severity: trigger.severity,
      source: trigger.source,
      dedupKey: trigger.dedupKey,
      status,
    },
    flow: {
      id: trigger.flowId,
      version: trigger.flowVersion,
      repeat: trigger.repeat,
      steps: trigger.steps.map((node) => ({ nodeId: node.id, name: node.name, delaySeconds: node.delaySeconds, target: node.target })),
    },
    triggeredAt: trigger.triggeredAt,
    acknowledgedAt: acknowledged?.at ?? null,
    acknowledgedBy: acknowledged ? actor(acknowledged.by) : null,
    resolvedAt: resolved?.at ?? null,
    resolvedBy: resolved ? actor(resolved.by) : null,
    timeToAcknowledgeMs: between(trigger.triggeredAt, acknowledged?.at ?? null),
    timeToResolveMs: between(trigger.triggeredAt, resolved?.at ?? null),
    repeats,
    steps,
    nextStep,
    lifecycle,
    notes,
    timeline: events.map((event) => ({ version: event.version, at: event.at, type: event.type, actor: event.actor, data: event.data })),
    complete: options.complete,
  };
}
