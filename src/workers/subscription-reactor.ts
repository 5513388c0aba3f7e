import { alertDecider } from '../domain/alert/decider.js';
import type { AlertState } from '../domain/alert/decider.js';
import type { AlertEvent } from '../domain/alert/events.js';
import { alertStreamId } from '../domain/alert/identity.js';
import { uuidV5 } from '../domain/deterministic-id.js';
import type { LifecycleEventType, SubscriptionEvent } from '../domain/subscription/events.js';
import type { EventCatalog } from '../eventstore/catalog.js';
import type { EventStore, LogPosition } from '../eventstore/types.js';
import type { SubscriptionWork } from '../infra/broker-messages.js';
import type { ProjectedEvent } from '../projections/projection.js';
import type { ReadModelTransaction } from '../projections/read-model-batch.js';
import type { Subscription } from '../projections/runner.js';

export const SUBSCRIPTION_DELIVERIES = 'subscription-deliveries';

/** Every delivery's id (its webhook-id) is derived from the subscription and the event: replays give the same id. */
const DELIVERY_ID_NAMESPACE = '6f1d2c3a-5b7e-4c8d-9a0f-1e2d3c4b5a69';

/** Finished deliveries are kept this long (for whoever looks into a failed one), then pruned a few at a time. */
const FINISHED_KEPT_DAYS = 7;
const PRUNED_PER_BATCH = 500;

export interface SubscriptionWorkPublisher {
  publishSubscriptionWork(work: SubscriptionWork): Promise<void>;
}

/**
 * Alert events as subscribers know them. `AlertNoteAdded` is named by its type: an event of the alert stream like
 * the others, whose data is passed on as it is.
 */
const lifecycleTypes: Record<string, LifecycleEventType> = {
  AlertTriggered: 'alert.triggered',
  AlertAcknowledged: 'alert.acknowledged',
  AlertResolved: 'alert.resolved',
  EscalationStepFired: 'alert.escalated',
  AlertEscalatedManually: 'alert.escalated',
  AlertNoteAdded: 'alert.note_added',
  NotificationFailed: 'notification.failed',
};

/** The lifecycle event an alert event is, if any: a failed page counts once it is given up (no retry left). */
export function lifecycleTypeOf(event: { type: string; data: unknown }): LifecycleEventType | null {
  if (event.type === 'NotificationFailed' && (event.data as { retryAt: string | null }).retryAt !== null) return null;
  return lifecycleTypes[event.type] ?? null;
}

/** What the subscriber learns of the event besides the alert: the event's own facts, in our words. */
function lifecycleData(event: ProjectedEvent): Record<string, unknown> {
  const data = event.data as Record<string, unknown>;
  switch (event.type) {
    case 'AlertTriggered': {
      const { flowId, flowVersion, dedupKey, source, triggeredAt } = data;
      return { flowId, flowVersion, dedupKey, source, triggeredAt };
    }
    case 'EscalationStepFired': {
      const { step, loop, dueAt, firedAt } = data;
      return { manual: false, step, loop, dueAt, firedAt };
    }
    case 'AlertEscalatedManually':
      return { manual: true, by: data.by, at: data.at };
    case 'NotificationFailed': {
      const { deliveryId, attempt, error, failedAt } = data;
      return { deliveryId, attempt, error, failedAt };
    }
    default: {
      const { alertId: _alertId, epoch: _epoch, ...rest } = data;
      return rest;
    }
  }
}

interface Target {
  subscriptionId: string;
  url: string;
  events: string[];
}

type AlertSnapshot = { state: AlertState; version: number };

/**
 * The reactor behind lifecycle webhooks: it turns alert events into one delivery row per matching subscription of
 * the alert's team, written in the transaction that moves its checkpoint (so each is written once), and hands the
 * affected (subscription, alert) lines to the subscription sender. Which subscriptions match is decided from its
 * own copy of them, at its own place in the log: a subscription hears the events recorded after it was created.
 */
export function subscriptionReactor(deps: { eventStore: EventStore; catalog: EventCatalog; publisher: SubscriptionWorkPublisher }): Subscription {
  return {
    name: SUBSCRIPTION_DELIVERIES,
    handles: new Set(['SubscriptionCreated', 'SubscriptionDeleted', ...Object.keys(lifecycleTypes)]),
    async handleBatch(tx, events) {
      const teams = [...new Set(events.flatMap((event) => (event.metadata.teamId ? [event.metadata.teamId] : [])))];
      const targets = await targetsOf(tx, teams);
      const alerts = new Map<string, AlertSnapshot>();
      const lines = new Map<string, SubscriptionWork>();
      let last: LogPosition | null = null;
      let written = 0;

      for (const event of events) {
        if (event.type === 'SubscriptionCreated' || event.type === 'SubscriptionDeleted') {
          await applySubscriptionEvent(tx, targets, event as ProjectedEvent<SubscriptionEvent>);
          continue;
        }
        const type = lifecycleTypeOf(event);
        const teamId = event.metadata.teamId;
        if (!type || !teamId) continue;
        const matching = (targets.get(teamId) ?? []).filter((target) => target.events.includes(type));
        if (matching.length === 0) continue;
        const alertId = (event.data as { alertId: string }).alertId;
        const alert = await alertAt(deps, alerts, alertId, event.streamVersion);
        if (alert.status === 'none') continue;
        const body = {
          type,
          at: event.recordedAt.toISOString(),
          teamId,
          alert: {
            id: alert.alertId,
            summary: alert.summary,
            severity: alert.severity,
            status: alert.status,
            details: alert.details ?? null,
            flowId: alert.flowId,
            flowVersion: alert.flowVersion,
          },
          data: lifecycleData(event),
        };
        for (const target of matching) {
          const id = uuidV5(`${target.subscriptionId}:${event.eventId}`, DELIVERY_ID_NAMESPACE);
          await tx.query(
            `insert into subscription_deliveries
               (id, team_id, subscription_id, alert_id, stream_version, type, url, body, status, next_attempt_at, created_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, 'pending', $9, $9)
             on conflict (id) do nothing`,
            [id, teamId, target.subscriptionId, alertId, event.streamVersion, type, target.url, JSON.stringify({ id, ...body }), event.recordedAt],
          );
          written++;
          lines.set(`${target.subscriptionId}:${alertId}`, { teamId, subscriptionId: target.subscriptionId, alertId });
        }
        last = event.position;
      }

      await tx.query(
        `delete from subscription_deliveries where id in (
           select id from subscription_deliveries where status <> 'pending' and finished_at < now() - make_interval(days => $1) limit $2)`,
        // At least twice what this batch wrote, so pruning keeps up with any rate of deliveries.
        [FINISHED_KEPT_DAYS, PRUNED_PER_BATCH + 2 * written],
      );
      if (!last) return;
      // Published before the rows commit: the sender waits until this reactor's checkpoint has passed `after`.
      const after = { transactionId: last.transactionId.toString(), globalPosition: last.globalPosition.toString() };
      const outcomes = await Promise.allSettled([...lines.values()].map((line) => deps.publisher.publishSubscriptionWork({ ...line, after })));
      const failed = outcomes.find((outcome) => outcome.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}

async function targetsOf(tx: ReadModelTransaction, teams: readonly string[]): Promise<Map<string, Target[]>> {
  const targets = new Map<string, Target[]>();
  if (teams.length === 0) return targets;
  const { rows } = await tx.query<{ subscription_id: string; team_id: string; url: string; events: string[] }>(
    'select subscription_id, team_id, url, events from subscription_targets where team_id = any($1::uuid[])',
    [teams],
  );
  for (const row of rows) {
    targets.set(row.team_id, [...(targets.get(row.team_id) ?? []), { subscriptionId: row.subscription_id, url: row.url, events: row.events }]);
  }
  return targets;
}

async function applySubscriptionEvent(tx: ReadModelTransaction, targets: Map<string, Target[]>, event: ProjectedEvent<SubscriptionEvent>): Promise<void> {
  const { subscriptionId, teamId } = event.data;
  const others = (targets.get(teamId) ?? []).filter((target) => target.subscriptionId !== subscriptionId);
  if (event.type === 'SubscriptionCreated') {
    const { target, events } = event.data;
    await tx.query(
      `insert into subscription_targets (subscription_id, team_id, url, events) values ($1, $2, $3, $4::text[])
       on conflict (subscription_id) do nothing`,
      [subscriptionId, teamId, target.url, events],
    );
    targets.set(teamId, [...others, { subscriptionId, url: target.url, events }]);
    return;
  }
  await tx.query('delete from subscription_targets where subscription_id = $1', [subscriptionId]);
  await tx.query(
    `update subscription_deliveries set status = 'cancelled', finished_at = $2, lease_until = null
      where subscription_id = $1 and status = 'pending'`,
    [subscriptionId, event.recordedAt],
  );
  targets.set(teamId, others);
}

/** The alert as it stood right after the event at `version` of its stream: what the subscriber is told it is. */
async function alertAt(
  deps: { eventStore: EventStore; catalog: EventCatalog },
  alerts: Map<string, AlertSnapshot>,
  alertId: string,
  version: number,
): Promise<AlertState> {
  let snapshot = alerts.get(alertId);
  if (!snapshot || snapshot.version > version) snapshot = { state: alertDecider.initialState(), version: -1 };
  if (snapshot.version < version) {
    const recorded = await deps.eventStore.readStream(alertStreamId(alertId), { fromVersion: snapshot.version + 1, maxCount: version - snapshot.version });
    let { state } = snapshot;
    for (const event of recorded) state = alertDecider.evolve(state, deps.catalog.parse<AlertEvent>(event));
    snapshot = { state, version };
    alerts.set(alertId, snapshot);
  }
  return snapshot.state;
}
