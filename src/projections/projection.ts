import type { DomainEvent } from '../domain/decider.js';
import type { LogPosition, RecordedMetadata } from '../eventstore/types.js';
import type { TableView } from './read-model-batch.js';

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

/** The primary-key columns of each table. */
export type TableKeys<Tables> = { [Table in keyof Tables]: readonly (keyof Tables[Table] & string)[] };

/** What a handler changes: each table of the read model, by primary key. */
export type ReadModelViews<Tables, Keys extends TableKeys<Tables>> = {
  [Table in keyof Tables]: TableView<Tables[Table], Keys[Table][number]>;
};

/** One function per event the projection reads; the compiler rejects a missing or an unnamed one. */
export type ProjectionHandlers<Tables, Keys extends TableKeys<Tables>, Event extends DomainEvent> = {
  [Type in Event['type']]: (readModel: ReadModelViews<Tables, Keys>, event: ProjectedEvent<Extract<Event, { type: Type }>>) => void;
};

/**
 * A read model: the tables it owns alone (with their primary keys) and, for each event it reads, a pure function
 * that changes rows. The runner applies a whole batch set-based in one transaction together with the checkpoint.
 */
export interface Projection {
  name: string;
  /** Table -> primary-key columns. */
  keys: Readonly<Record<string, readonly string[]>>;
  handles: ReadonlySet<string>;
  apply(readModel: Record<string, TableView<any, any>>, event: ProjectedEvent): void;
}

/**
 * `defineProjection<Tables, Event>()({ name, keys, handlers })`: Tables maps each table to its row type, Event is
 * the union of exactly the events the projection reads.
 */
export function defineProjection<Tables, Event extends DomainEvent>() {
  return <const Keys extends TableKeys<Tables>>(definition: {
    name: string;
    keys: Keys;
    handlers: ProjectionHandlers<Tables, Keys, Event>;
  }): Projection => {
    const handlers = definition.handlers as unknown as Record<string, (readModel: unknown, event: ProjectedEvent) => void>;
    return {
      name: definition.name,
      keys: definition.keys,
      handles: new Set(Object.keys(handlers)),
      apply(readModel, event) {
        handlers[event.type]?.(readModel, event);
      },
    };
  };
}
