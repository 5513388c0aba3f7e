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

export interface CommandDependencies {
  eventStore: EventStore;
  catalog: EventCatalog;
  /** States this process last saw per stream; commands then skip reading the stream when they can. */
  streamCache?: StreamStateCache;
}

interface CachedStream {
  revision: number;
  state: unknown;
}

/**
 * The state of recently used streams at the revision this process last read or wrote. A cached state is only a
 * guess at the present: an append made from it carries its revision as the expected version, so a stale guess
 * costs a conflict and a re-read, never a wrong decision. Bounded, least recently used first out.
 */
export class StreamStateCache {
  private readonly entries = new Map<string, CachedStream>();

  constructor(private readonly maxEntries = 20_000) {}

  get(streamId: string): CachedStream | undefined {
    const entry = this.entries.get(streamId);
    if (entry) {
      this.entries.delete(streamId);
      this.entries.set(streamId, entry);
    }
    return entry;
  }

  set(streamId: string, revision: number, state: unknown): void {
    this.entries.delete(streamId);
    this.entries.set(streamId, { revision, state });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(streamId: string): void {
    this.entries.delete(streamId);
  }

  get size(): number {
    return this.entries.size;
  }
}

export interface AggregateOptions {
  /** For a rolling state (every event carries the whole state decided on): read from this revision on. */
  readFrom?: number;
  /** The state as it was at this instant: events recorded later are left out, and the cache is not used. */
  asOf?: Date;
}

/**
 * A stream's current state and revision (-1: no such stream): the cached state brought up to date with the events
 * after it, or a fold of the whole stream.
 */
export async function aggregateStream<State, Event extends DomainEvent>(
  dependencies: CommandDependencies,
  decider: Pick<Decider<unknown, State, Event>, 'initialState' | 'evolve'>,
  streamId: string,
  options: AggregateOptions = {},
): Promise<{ state: State; revision: number }> {
  const { eventStore, catalog } = dependencies;
  const { readFrom = 0, asOf } = options;
  const streamCache = asOf ? undefined : dependencies.streamCache;
  const cached = streamCache?.get(streamId);
  let state = cached ? (cached.state as State) : decider.initialState();
  let revision = cached ? cached.revision : readFrom > 0 ? readFrom - 1 : -1;
  try {
    let recorded = await eventStore.readStream(streamId, { fromVersion: revision + 1 });
    if (!cached && readFrom > 0 && recorded.length === 0) {
      // Nothing from there on: the stream is shorter than the caller thought, or does not exist.
      revision = -1;
      recorded = await eventStore.readStream(streamId);
    }
    for (const event of recorded) {
      if (asOf && event.recordedAt.getTime() > asOf.getTime()) break;
      state = decider.evolve(state, catalog.parse<Event>(event));
      revision = event.streamVersion;
    }
  } catch (error) {
    streamCache?.delete(streamId);
    throw error;
  }
  if (revision >= 0) streamCache?.set(streamId, revision, state);
  return { state, revision };
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

/** Who asks, and how the stream may be read. */
export interface CommandOptions {
  actor: Actor;
  correlationId?: string;
  causationId?: string | null;
  /** The revision the caller last saw (If-Match); a mismatch is a conflict, never retried. */
  expectedRevision?: number;
  maxAttempts?: number;
  /** The stream id was just made up (a random id): no need to read it, it cannot exist yet. */
  newStream?: boolean;
  /**
   * Read the stream from this revision on instead of from its start. Only for deciders whose every event carries the
   * whole state they decide on (a rolling state): the events from any revision evolve to the current state, so the
   * command costs the same however long the stream is. A revision beyond the stream's end reads the whole stream.
   */
  readFrom?: number;
}

/** Runs one command against the stream of the aggregate with this id. */
export type CommandHandler<Id, Command, State, Event> = (
  dependencies: CommandDependencies,
  id: Id,
  command: Command,
  options: CommandOptions,
) => Promise<CommandResult<State, Event>>;

/**
 * The generic handler bound to one aggregate: load, fold, decide, append with the revision read as the expected
 * version; re-decide on a lost race.
 */
export function commandHandler<Id, Command, State, Event extends DomainEvent>(
  decider: Decider<Command, State, Event>,
  streamIdOf: (id: Id) => string,
  /** The team the events belong to, from the state they lead to; none when left out. */
  teamOf: (state: State, id: Id) => string | null = () => null,
): CommandHandler<Id, Command, State, Event> {
  return async (dependencies, id, command, options) => {
    const { eventStore, catalog, streamCache } = dependencies;
    const streamId = streamIdOf(id);
    const maxAttempts = options.expectedRevision === undefined ? (options.maxAttempts ?? 12) : 1;
    const correlationId = options.correlationId ?? randomUUID();
    const read = { readFrom: options.readFrom };

    for (let attempt = 1; ; attempt++) {
      // A guess (a new stream, or the cached state) is good enough to decide from when the decision appends: the
      // append's expected version checks it. Deciding nothing, refusing, or an If-Match needs the stream as it is.
      const guess = attempt === 1 ? (options.newStream ? { state: decider.initialState(), revision: -1 } : cachedState<State>(streamCache, streamId)) : undefined;
      let loaded = guess ?? (await aggregateStream(dependencies, decider, streamId, read));
      let events: Event[];
      try {
        events = decideAgainst(decider, command, loaded, options);
        if (events.length === 0 && guess) throw new GuessNotEnough();
      } catch (error) {
        if (!guess) throw error;
        loaded = await aggregateStream(dependencies, decider, streamId, read);
        events = decideAgainst(decider, command, loaded, options);
      }
      const { state, revision } = loaded;
      const decidedFromGuess = loaded === guess;
      if (events.length === 0) return { events, state, revision, position: null };

      const after = events.reduce(decider.evolve, state);
      const expectedVersion: ExpectedVersion = revision === -1 ? 'no_stream' : revision;
      try {
        const appended = await eventStore.append(
          streamId,
          events.map((event) => ({ type: event.type, data: event.data, schemaVersion: catalog.schemaVersionOf(event.type) })),
          {
            expectedVersion,
            metadata: { actor: options.actor, correlationId, causationId: options.causationId ?? null, teamId: teamOf(after, id) },
          },
        );
        streamCache?.set(streamId, appended.nextExpectedVersion, after);
        return { events, state: after, revision: appended.nextExpectedVersion, position: appended.position };
      } catch (error) {
        if (error instanceof WrongExpectedVersionError) {
          if (options.expectedRevision !== undefined) throw new StaleVersionError(options.expectedRevision + 1, error.actual + 1);
          if (attempt < maxAttempts) {
            // Writers that collided would collide again in lockstep; a little jitter lets one through per round.
            // A guess that was merely out of date needs no wait: the re-read has the winner's events.
            if (!decidedFromGuess) await new Promise((resolve) => setTimeout(resolve, Math.random() * 4 * attempt));
            continue;
          }
        }
        throw error;
      }
    }
  };
}

/** Deciding from a guessed state produced nothing: only the stream as it is can say whether that is right. */
class GuessNotEnough extends Error {}

function cachedState<State>(cache: StreamStateCache | undefined, streamId: string): { state: State; revision: number } | undefined {
  const cached = cache?.get(streamId);
  return cached ? { state: cached.state as State, revision: cached.revision } : undefined;
}

function decideAgainst<Command, State, Event>(
  decider: Decider<Command, State, Event>,
  command: Command,
  { state, revision }: { state: State; revision: number },
  options: Pick<CommandOptions, 'expectedRevision'>,
): Event[] {
  if (options.expectedRevision !== undefined && options.expectedRevision !== revision) {
    throw new StaleVersionError(options.expectedRevision + 1, revision + 1);
  }
  return decider.decide(command, state);
}
