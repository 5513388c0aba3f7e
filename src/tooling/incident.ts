import { aggregateStream, type CommandDependencies } from '../commands/handle-command.js';
import { alertDecider, type AlertState } from '../domain/alert/decider.js';
import { alertStreamId } from '../domain/alert/identity.js';
import { incidentReportMarkdown } from '../domain/alert/report-markdown.js';
import type { EventCatalog } from '../eventstore/catalog.js';
import { type EventStore, formatPosition, type RecordedEvent } from '../eventstore/types.js';
import { createKysely } from '../infra/kysely.js';
import { incidentReportOf } from '../projections/queries/incident-report.js';
import type { ReadModels } from '../projections/read-models.js';
import type { ToolContext } from './context.js';

export interface TimelineLine {
  position: string;
  at: string;
  type: string;
  actor: string;
  data: unknown;
}

export async function incidentEvents(eventStore: EventStore, alertId: string): Promise<RecordedEvent[]> {
  const events = await eventStore.readStream(alertStreamId(alertId));
  if (events.length === 0) throw new Error(`no alert ${alertId}`);
  return events;
}

export function timeline(events: readonly RecordedEvent[], catalog: EventCatalog): TimelineLine[] {
  return events.map((event) => ({
    position: formatPosition(event.position),
    at: event.recordedAt.toISOString(),
    type: event.type,
    actor: event.metadata.actor,
    data: catalog.parse(event).data,
  }));
}

/** The alert's state exactly as the engine saw it at `at`: the same evolve, fed the events recorded by then. */
export async function stateAsOf(
  deps: Pick<CommandDependencies, 'eventStore' | 'catalog'>,
  alertId: string,
  at: Date,
): Promise<{ state: AlertState; applied: number }> {
  const { state, revision } = await aggregateStream(deps, alertDecider, alertStreamId(alertId), { asOf: at });
  // Nothing recorded by then is an answer (the alert did not exist yet); an alert that never existed is an error.
  if (revision < 0) await incidentEvents(deps.eventStore, alertId);
  return { state, applied: revision + 1 };
}

/** The alert's report as `incident report` prints it: markdown for people, or JSON (the schema of GET …/report). */
export async function incidentReportFor(context: ToolContext, alertId: string, format: 'md' | 'json'): Promise<string> {
  const report = await incidentReportOf({ ...context, db: createKysely<ReadModels>(context.pool) }, alertId);
  if (!report) throw new Error(`no alert ${alertId}`);
  return format === 'md' ? incidentReportMarkdown(report) : `${JSON.stringify(report, null, 2)}\n`;
}
