import type { z } from 'zod';
import type { RecordedEvent } from './types.js';

/** How one event type is written today and how its older shapes are brought up to date. */
export interface EventDefinition {
  schema: z.ZodType;
  /** Current schema version; written with every new event of this type. */
  version: number;
  /** upcasters[n] turns data stored at version n into version n + 1. Stored events are never rewritten. */
  upcasters?: Record<number, (data: unknown) => unknown>;
}

/** The event union an aggregate's definitions describe: `{ type, data }` per type, data inferred from its schema. */
export type EventsOf<Definitions extends Record<string, { schema: z.ZodType }>> = {
  [Type in keyof Definitions & string]: { type: Type; data: z.infer<Definitions[Type]['schema']> };
}[keyof Definitions & string];

export class UnknownEventError extends Error {
  override name = 'UnknownEventError';
}

export class EventCatalog {
  private readonly definitions = new Map<string, EventDefinition>();

  register(definitions: Record<string, EventDefinition>): this {
    for (const [type, definition] of Object.entries(definitions)) {
      if (this.definitions.has(type)) throw new Error(`event type ${type} registered twice`);
      this.definitions.set(type, definition);
    }
    return this;
  }

  has(type: string): boolean {
    return this.definitions.has(type);
  }

  schemaVersionOf(type: string): number {
    return this.definition(type).version;
  }

  /** Upcasts and validates a stored event; a shape the code does not know is an error, never guessed at. */
  parse<E extends { type: string; data: unknown }>(recorded: Pick<RecordedEvent, 'type' | 'schemaVersion' | 'data' | 'eventId'>): E {
    const definition = this.definition(recorded.type);
    let data = recorded.data;
    for (let version = recorded.schemaVersion; version < definition.version; version++) {
      const upcast = definition.upcasters?.[version];
      if (!upcast) throw new UnknownEventError(`no upcaster for ${recorded.type} from schema version ${version}`);
      data = upcast(data);
    }
    if (recorded.schemaVersion > definition.version) {
      throw new UnknownEventError(`${recorded.type} ${recorded.eventId} has schema version ${recorded.schemaVersion}, newer than this code`);
    }
    const parsed = definition.schema.safeParse(data);
    if (!parsed.success) {
      throw new UnknownEventError(`${recorded.type} ${recorded.eventId} does not match its schema: ${parsed.error.message}`);
    }
    return { type: recorded.type, data: parsed.data } as E;
  }

  private definition(type: string): EventDefinition {
    const definition = this.definitions.get(type);
    if (!definition) throw new UnknownEventError(`unknown event type ${type}`);
    return definition;
  }
}
