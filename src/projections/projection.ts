import type { CompiledQuery, Kysely } from 'kysely';
import type { DomainEvent } from '../domain/decider.js';
import type { LogPosition, RecordedMetadata } from '../eventstore/types.js';

/** Where an event came from. */
export interface EventEnvelope {
  streamId: string;
  streamVersion: number;
  eventId: string;
  metadata: RecordedMetadata;
  recordedAt: Date;
  position: LogPosition;
}

/** A parsed, upcast event with its envelope: what projections and reactors receive (a union stays discriminated). */
export type ProjectedEvent<Event extends DomainEvent = DomainEvent> = Event extends DomainEvent ? Event & EventEnvelope : never;

/**
 * A read model: the events it reads and, for each, the statements that change its rows.
 * `project` is pure (it only builds queries); the runner executes them in the batch's transaction,
 * together with the checkpoint.
 */
export interface Projection<Tables = unknown, Event extends DomainEvent = DomainEvent> {
  name: string;
  handles: ReadonlySet<Event['type']>;
  /** Tables this projection owns alone; emptied on rebuild. */
  tables: readonly (keyof Tables & string)[];
  project(db: Kysely<Tables>, event: ProjectedEvent<Event>): CompiledQuery[];
}

export function defineProjection<Tables, Event extends DomainEvent>(projection: Projection<Tables, Event>): Projection<Tables, Event> {
  return projection;
}
