import type { Kysely } from 'kysely';
import { alertStreamId } from '../../domain/alert/identity.js';
import { type IncidentReport, incidentReport, type ReportEvent, usersNamedIn } from '../../domain/alert/report.js';
import type { EventCatalog } from '../../eventstore/catalog.js';
import type { EventStore } from '../../eventstore/types.js';
import type { ReadModels } from '../read-models.js';

/** The events one report reads at most: an alert's stream is short, and a report must stay cheap if one is not. */
export const REPORT_MAX_EVENTS = 10_000;

/**
 * The report of an alert, folded from its stream, with users named as the read model has them now. Null when there
 * is no such alert, or when `teamId` is given and the alert is another team's.
 */
export async function incidentReportOf(
  deps: { eventStore: EventStore; catalog: EventCatalog; db: Kysely<ReadModels> },
  alertId: string,
  teamId?: string,
): Promise<IncidentReport | null> {
  const recorded = await deps.eventStore.readStream(alertStreamId(alertId), { maxCount: REPORT_MAX_EVENTS + 1 });
  if (recorded.length === 0 || (teamId !== undefined && recorded[0]!.metadata.teamId !== teamId)) return null;
  const events: ReportEvent[] = recorded.slice(0, REPORT_MAX_EVENTS).map((event) => ({
    version: event.streamVersion,
    at: event.recordedAt.toISOString(),
    type: event.type,
    actor: event.metadata.actor,
    // A type this code does not know (a newer feature's) is shown as stored.
    data: deps.catalog.has(event.type) ? deps.catalog.parse(event).data : event.data,
  }));
  const userIds = usersNamedIn(events);
  const users = userIds.length === 0 ? [] : await deps.db.selectFrom('users').select(['id', 'name']).where('id', 'in', userIds).execute();
  const names = new Map(users.map((user) => [user.id.toLowerCase(), user.name]));
  return incidentReport(events, (userId) => names.get(userId) ?? null, { complete: recorded.length <= REPORT_MAX_EVENTS });
}
