import { randomUUID } from 'node:crypto';
import type { Decider, DomainEvent } from '../domain/decider.js';
import type { EventCatalog } from '../eventstore/catalog.js';
import {
  type Actor,
  type EventStore,
  type ExpectedVersion,
  type LogPosition,
  WrongExpectedVersionError,
} from '../eventstore/types.js';

export interface CommandContext<State = never> {
  actor: Actor;
  correlationId?: string;
  causationId?: string | null;
  /** The team the events belong to; a function when only the stream's state knows it (workers). */
  teamId: string | null | ((state: State) => string | null);
}

export interface CommandDependencies {
  eventStore: EventStore;
  catalog: EventCatalog;
}

export interface CommandResult<State, Event> {
  /** Events this command appended; empty when the decider decided nothing needed to happen. */
  events: Event[];
  /** State after the command. */
  state: State;
  /** Stream revision after the command (-1: the stream does not exist). */
  revision: number;
  /** Global log position of the last appended event; null when nothing was appended. */
  position: LogPosition | null;
}

/** The caller's If-Match named a version that is no longer current. Versions are 1-based: revision + 1. */
export class StaleVersionError extends Error {
  override name = 'StaleVersionError';
  constructor(
    readonly expectedVersion: number,
    readonly currentVersion: number,
  ) {
    super(`the resource is at version ${currentVersion}, not ${expectedVersion}`);
  }
}

export interface HandleOptions {
  /** The revision the caller last saw (If-Match); a mismatch is a conflict, never retried. */
  expectedRevision?: number;
  maxAttempts?: number;
  /**
   * Read the stream from this revision on instead of from its start. Only for deciders whose every event carries the
   * whole state they decide on (a rolling state): the events from any revision evolve to the current state, so the
   * command costs the same however long the stream is. A revision beyond the stream's end reads the whole stream.
   */
  readFrom?: number;
}

/** Load, fold, decide, append with the revision read as the expected version; re-decide on a lost race. */
export async function handleCommand<Command, State, Event extends DomainEvent>(
  dependencies: CommandDependencies,
  decider: Decider<Command, State, Event>,
  streamId: string,
  command: Command,
  context: CommandContext<State>,
  options: HandleOptions = {},
): Promise<CommandResult<State, Event>> {
  const { eventStore, catalog } = dependencies;
  const maxAttempts = options.expectedRevision === undefined ? (options.maxAttempts ?? 12) : 1;
  const correlationId = context.correlationId ?? randomUUID();

  for (let attempt = 1; ; attempt++) {
    const readFrom = options.readFrom ?? 0;
    let recorded = readFrom > 0 ? await eventStore.readStream(streamId, { fromVersion: readFrom }) : [];
    if (recorded.length === 0) recorded = await eventStore.readStream(streamId);
    const revision = recorded.length === 0 ? -1 : recorded[recorded.length - 1]!.streamVersion;
    if (options.expectedRevision !== undefined && options.expectedRevision !== revision) {
      throw new StaleVersionError(options.expectedRevision + 1, revision + 1);
    }
    let state = decider.initialState();
    for (const event of recorded) state = decider.evolve(state, catalog.parse<Event>(event));

    const events = decider.decide(command, state);
    if (events.length === 0) return { events, state, revision, position: null };

    const expectedVersion: ExpectedVersion = revision === -1 ? 'no_stream' : revision;
    try {
      const appended = await eventStore.append(
        streamId,
        events.map((event) => ({ type: event.type, data: event.data, schemaVersion: catalog.schemaVersionOf(event.type) })),
        {
          expectedVersion,
          metadata: {
            actor: context.actor,
            correlationId,
            causationId: context.causationId ?? null,
            teamId: typeof context.teamId === 'function' ? context.teamId(state) : context.teamId,
          },
        },
      );
      return {
        events,
        state: events.reduce(decider.evolve, state),
        revision: appended.nextExpectedVersion,
        position: appended.position,
      };
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        if (options.expectedRevision !== undefined) throw new StaleVersionError(options.expectedRevision + 1, error.actual + 1);
        if (attempt < maxAttempts) {
          // Writers that collided would collide again in lockstep; a little jitter lets one through per round.
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 4 * attempt));
          continue;
        }
      }
      throw error;
    }
  }
}
