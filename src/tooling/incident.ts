import { alertStreamId } from '../domain/alert/identity.js';
import { alertDecider, type AlertState } from '../domain/alert/decider.js';
import type { AlertEvent } from '../domain/alert/events.js';
import type { EventCatalog } from '../eventstore/catalog.js';
import { type EventStore, formatPosition, type RecordedEvent } from '../eventstore/types.js';

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
export function stateAsOf(events: readonly RecordedEvent[], catalog: EventCatalog, at: Date): { state: AlertState; applied: number } {
  let state = alertDecider.initialState();
  let applied = 0;
  for (const event of events) {
    if (event.recordedAt.getTime() > at.getTime()) break;
    state = alertDecider.evolve(state, catalog.parse<AlertEvent>(event));
    applied++;
  }
  return { state, applied };
}
