import { randomUUID } from 'node:crypto';
import {
  type AllStreamSubscription,
  BACKWARDS,
  DeadlineExceededError,
  END,
  EventStoreDBClient,
  eventTypeFilter,
  excludeSystemEvents,
  FORWARDS,
  jsonEvent,
  type JSONType,
  NO_STREAM,
  type Position,
  type ReadPosition,
  type RecordedEvent as EsdbRecordedEvent,
  START,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError as EsdbWrongExpectedVersionError,
} from '@eventstore/db-client';
import { z } from 'zod';
import { createLogger, type Logger } from '../infra/logger.js';
import { redactUrl } from '../infra/postgres.js';
import { AppendSignal } from './append-signal.js';
import { eventHash, type HashedContent, verifyChainsInLog } from './hash-chain.js';
import {
  type AppendResult,
  type AppendWatch,
  comparePositions,
  type EventMetadata,
  type EventStore,
  EventStoreUnavailableError,
  type ExpectedVersion,
  type HashChainReport,
  type LogPosition,
  meetsExpectedVersion,
  type NewEvent,
  type ReadAllOptions,
  type RecordedEvent,
  START_OF_LOG,
  streamCategory,
  type TeamLogQuery,
  WrongExpectedVersionError,
} from './types.js';
import { EventMetadataSchema } from './metadata.js';

/** What this adapter writes as EventStoreDB event metadata: ours, plus what the server cannot hold elsewhere. */
const StoredMetadata = EventMetadataSchema.extend({
  schemaVersion: z.number().int().min(1),
  // The server's `created` is not ours to choose, yet the hash must cover the time: it is kept here.
  recordedAt: z.iso.datetime(),
  prevHash: z.string().nullable(),
  hash: z.string(),
});
type StoredMetadata = z.infer<typeof StoredMetadata>;

const isSystemEvent = (streamId: string, type: string) => streamId.startsWith('$') || type.startsWith('$');
const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** How long a health check waits for the server: start-up must fail within seconds, not hang. */
const HEALTH_CHECK_DEADLINE_MS = 3000;
const PAGE = 500;
const backoffMs = (failures: number) => Math.min(5000, 100 * 2 ** Math.min(failures, 6));

/**
 * The EventStore interface on EventStoreDB/KurrentDB. Revisions are the server's own (0-based), `$all`
 * positions map commit -> transactionId and prepare -> globalPosition, and system events are left out.
 * Appending reads the stream head first to extend the hash chain, then writes with that exact revision,
 * so a concurrent writer can never leave two events pointing at the same predecessor.
 *
 * An unreachable server is an EventStoreUnavailableError to the caller and one log line when it is first seen
 * (and one when the server answers again), however many calls fail meanwhile: the client reconnects by itself,
 * and callers retry with backoff.
 */
export class EventStoreDbEventStore implements EventStore {
  readonly dependency = 'eventstoredb';
  private reachable = true;

  constructor(
    private readonly client: EventStoreDBClient,
    private readonly logger: Logger,
    private readonly location: string,
  ) {}

  static connect(connectionString: string, options: { logger?: Logger } = {}): EventStoreDbEventStore {
    return new EventStoreDbEventStore(
      EventStoreDBClient.connectionString(connectionString),
      options.logger ?? createLogger('silent'),
      redactUrl(connectionString),
    );
  }

  append(
    streamId: string,
    events: readonly NewEvent[],
    options: { expectedVersion: ExpectedVersion; metadata: EventMetadata },
  ): Promise<AppendResult> {
    if (events.length === 0) return Promise.reject(new Error('append needs at least one event'));
    return this.reaching(() => this.appendChained(streamId, events, options));
  }

  readStream(streamId: string, options: { fromVersion?: number; maxCount?: number } = {}): Promise<RecordedEvent[]> {
    return this.reaching(async () => {
      const recorded: RecordedEvent[] = [];
      try {
        const reading = this.client.readStream(streamId, {
          direction: FORWARDS,
          fromRevision: BigInt(options.fromVersion ?? 0),
          ...(options.maxCount === undefined ? {} : { maxCount: options.maxCount }),
        });
        for await (const resolved of reading) {
          if (resolved.event) recorded.push(toRecordedEvent(resolved.event));
        }
      } catch (error) {
        if (error instanceof StreamNotFoundError) return [];
        throw error;
      }
      return recorded;
    });
  }

  readAll(options: ReadAllOptions): Promise<RecordedEvent[]> {
    return this.reaching(async () => {
      const recorded: RecordedEvent[] = [];
      if (options.maxCount <= 0) return recorded;
      await this.scanForwards(options.after, (event) => {
        if (options.until && comparePositions(event.position, options.until) > 0) return false;
        recorded.push(event);
        return recorded.length < options.maxCount;
      });
      return recorded;
    });
  }

  readLast(maxCount: number): Promise<RecordedEvent[]> {
    return this.reaching(async () => {
      const recorded: RecordedEvent[] = [];
      if (maxCount > 0) {
        await this.scanBackwards((event) => {
          recorded.push(event);
          return recorded.length < maxCount;
        });
      }
      return recorded.reverse();
    });
  }

  async headPosition(): Promise<LogPosition> {
    const [last] = await this.readLast(1);
    return last?.position ?? START_OF_LOG;
  }

  countEvents(options: { after: LogPosition; until?: LogPosition }): Promise<number> {
    return this.reaching(async () => {
      let count = 0;
      await this.scanForwards(options.after, (event) => {
        if (options.until && comparePositions(event.position, options.until) > 0) return false;
        count++;
        return true;
      });
      return count;
    });
  }

  /** `$all` backwards from its end, keeping the team's events: the cost grows with how far back the page lies. */
  readTeamLog(query: TeamLogQuery): Promise<RecordedEvent[]> {
    const categories = new Set(query.categories);
    return this.reaching(async () => {
      const recorded: RecordedEvent[] = [];
      if (query.maxCount > 0) {
        await this.scanBackwards((event) => {
          if (query.before !== undefined && event.position.globalPosition >= query.before) return true;
          if (event.metadata.teamId === query.teamId && categories.has(streamCategory(event.streamId))) recorded.push(event);
          return recorded.length < query.maxCount;
        });
      }
      return recorded;
    });
  }

  /**
   * A live subscription to `$all` from its end, filtered on the server (the given event types, or every non-system
   * event), announcing each event it delivers. A dropped subscription is made again with backoff, and announces once
   * it is back, for what was appended while it was away.
   */
  watchAppends(options: { types?: ReadonlySet<string> }): AppendWatch {
    let subscription: AllStreamSubscription | null = null;
    let retry: NodeJS.Timeout | null = null;
    let closed = false;
    const signal = new AppendSignal(async () => {
      closed = true;
      if (retry) clearTimeout(retry);
      await subscription?.unsubscribe().catch(() => undefined);
      subscription = null;
    });
    if (options.types?.size === 0) return signal;
    const filter = options.types
      ? eventTypeFilter({ regex: `^(?:${[...options.types].map(escapeRegex).join('|')})$` })
      : excludeSystemEvents();
    let failures = 0;
    const subscribe = () => {
      retry = null;
      if (closed) return;
      const current = this.client.subscribeToAll({ fromPosition: END, filter });
      subscription = current;
      const dropped = (error: Error) => {
        if (subscription !== current || closed) return;
        subscription = null;
        this.unreachable(error);
        void current.unsubscribe().catch(() => undefined);
        retry = setTimeout(subscribe, backoffMs(++failures));
        retry.unref();
      };
      current.on('confirmation', () => {
        failures = 0;
        this.reached();
        signal.announce();
      });
      current.on('data', () => signal.announce());
      current.on('error', dropped);
      current.on('end', () => dropped(new Error('the server ended the subscription')));
    };
    subscribe();
    return signal;
  }

  /** Hash chains as the log holds them; nothing in EventStoreDB keeps a stream head apart from its last event. */
  verifyHashChains(options: { maxBroken?: number } = {}): Promise<HashChainReport> {
    return verifyChainsInLog(this, options);
  }

  /**
   * Asks the server for the end of `$all`; reports without logging, as readiness probes ask all the time. The
   * client's deadline does not cover the connection it opens first, which a silent port never completes.
   */
  async checkHealth(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const answered = (async () => {
      for await (const _ of this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1, deadline: HEALTH_CHECK_DEADLINE_MS })) break;
    })();
    const silent = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new EventStoreUnavailableError(`cannot reach EventStoreDB at ${this.location}: no answer within ${HEALTH_CHECK_DEADLINE_MS} ms`)),
        HEALTH_CHECK_DEADLINE_MS,
      );
    });
    try {
      await Promise.race([answered, silent]);
    } catch (error) {
      answered.catch(() => undefined);
      throw this.asUnavailable(error);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.client.dispose();
  }

  /** Runs one call to the server, telling an unreachable server apart from every other failure. */
  private async reaching<T>(call: () => Promise<T>): Promise<T> {
    try {
      const result = await call();
      this.reached();
      return result;
    } catch (error) {
      const failure = this.asUnavailable(error);
      if (failure instanceof EventStoreUnavailableError) this.unreachable(failure);
      throw failure;
    }
  }

  private asUnavailable(error: unknown): unknown {
    if (!(error instanceof UnavailableError || error instanceof DeadlineExceededError)) return error;
    return new EventStoreUnavailableError(`cannot reach EventStoreDB at ${this.location}: ${error.message.trim()}`);
  }

  private reached(): void {
    if (this.reachable) return;
    this.reachable = true;
    this.logger.info({ eventStore: this.location }, 'EventStoreDB reachable again');
  }

  private unreachable(error: Error): void {
    if (!this.reachable) return;
    this.reachable = false;
    this.logger.warn({ eventStore: this.location, error: error.message }, 'EventStoreDB unreachable; retrying with backoff');
  }

  /**
   * Hands each non-system event after `after` to `take` in log order until it returns false or the log ends. A read
   * includes the event at its start position, and system events count against maxCount: pages overlap by one and
   * are read on until one comes back short.
   */
  private async scanForwards(after: LogPosition, take: (event: RecordedEvent) => boolean): Promise<void> {
    let lastSeen = after;
    for (;;) {
      const fromStart = lastSeen.transactionId === 0n && lastSeen.globalPosition === 0n;
      const fromPosition: ReadPosition = fromStart ? START : { commit: lastSeen.transactionId, prepare: lastSeen.globalPosition };
      const reading = this.client.readAll({ direction: FORWARDS, fromPosition, maxCount: PAGE + 1 });
      let seen = 0;
      for await (const { event } of reading) {
        seen++;
        if (!event?.position) continue;
        const position = toLogPosition(event.position);
        if (comparePositions(position, lastSeen) <= 0) continue;
        lastSeen = position;
        if (isSystemEvent(event.streamId, event.type)) continue;
        if (!take(toRecordedEvent(event))) {
          await reading.cancel().catch(() => undefined);
          return;
        }
      }
      if (seen < PAGE + 1) return;
    }
  }

  /** Hands each non-system event to `take`, newest first, until it returns false or the log's start is reached. */
  private async scanBackwards(take: (event: RecordedEvent) => boolean): Promise<void> {
    let from: ReadPosition = END;
    let lastSeen: LogPosition | null = null;
    for (;;) {
      const reading = this.client.readAll({ direction: BACKWARDS, fromPosition: from, maxCount: PAGE + 1 });
      let seen = 0;
      for await (const { event } of reading) {
        seen++;
        if (!event?.position) continue;
        const position = toLogPosition(event.position);
        if (lastSeen && comparePositions(position, lastSeen) >= 0) continue;
        lastSeen = position;
        if (isSystemEvent(event.streamId, event.type)) continue;
        if (!take(toRecordedEvent(event))) {
          await reading.cancel().catch(() => undefined);
          return;
        }
      }
      if (seen < PAGE + 1 || !lastSeen) return;
      from = { commit: lastSeen.transactionId, prepare: lastSeen.globalPosition };
    }
  }

  private async appendChained(
    streamId: string,
    events: readonly NewEvent[],
    options: { expectedVersion: ExpectedVersion; metadata: EventMetadata },
  ): Promise<AppendResult> {
    const eventIds = events.map((event) => event.eventId ?? randomUUID());
    for (;;) {
      const head = await this.streamHead(streamId);
      if (!meetsExpectedVersion(options.expectedVersion, head.revision)) {
        throw new WrongExpectedVersionError(streamId, options.expectedVersion, head.revision);
      }
      const recordedAt = new Date();
      let prevHash = head.hash;
      const eventData = events.map((event, index) => {
        const schemaVersion = event.schemaVersion ?? 1;
        const content: HashedContent = {
          prevHash,
          streamId,
          streamVersion: head.revision + 1 + index,
          eventId: eventIds[index]!,
          type: event.type,
          schemaVersion,
          data: event.data,
          metadata: options.metadata,
          recordedAt,
        };
        const hash = eventHash(content);
        const metadata: StoredMetadata & { $correlationId: string; $causationId?: string } = {
          actor: options.metadata.actor,
          correlationId: options.metadata.correlationId,
          causationId: options.metadata.causationId,
          teamId: options.metadata.teamId,
          schemaVersion,
          recordedAt: recordedAt.toISOString(),
          prevHash,
          hash,
          // The server's own correlation conventions, so its projections and UI can follow causality too.
          $correlationId: options.metadata.correlationId,
          ...(options.metadata.causationId ? { $causationId: options.metadata.causationId } : {}),
        };
        prevHash = hash;
        return jsonEvent({ id: content.eventId, type: event.type, data: (event.data ?? null) as JSONType, metadata });
      });
      try {
        const result = await this.client.appendToStream(streamId, eventData, {
          expectedRevision: head.revision === -1 ? NO_STREAM : BigInt(head.revision),
        });
        const revision = Number(result.nextExpectedRevision);
        const position = (await this.positionOf(streamId, revision)) ?? (result.position ? toLogPosition(result.position) : null);
        if (!position) throw new Error('EventStoreDB returned no log position for an append; AlertOps needs server 22.6 or newer');
        return { nextExpectedVersion: revision, position };
      } catch (error) {
        if (!(error instanceof EsdbWrongExpectedVersionError)) throw error;
        // Someone appended between reading the head and writing. For `any` and `stream_exists` that is no
        // refusal: read the new head and chain onto it.
        if (options.expectedVersion === 'any' || options.expectedVersion === 'stream_exists') continue;
        const actual = error.actualVersion === NO_STREAM ? -1 : Number(error.actualVersion);
        throw new WrongExpectedVersionError(streamId, options.expectedVersion, actual);
      }
    }
  }

  private async streamHead(streamId: string): Promise<{ revision: number; hash: string | null }> {
    try {
      for await (const resolved of this.client.readStream(streamId, { direction: BACKWARDS, fromRevision: END, maxCount: 1 })) {
        if (!resolved.event) continue;
        return { revision: Number(resolved.event.revision), hash: StoredMetadata.parse(resolved.event.metadata).hash };
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return { revision: -1, hash: null };
      throw error;
    }
    return { revision: -1, hash: null };
  }

  /** The `$all` position of one event; the append result alone does not say where its last event sits. */
  private async positionOf(streamId: string, revision: number): Promise<LogPosition | null> {
    for await (const resolved of this.client.readStream(streamId, { direction: FORWARDS, fromRevision: BigInt(revision), maxCount: 1 })) {
      if (resolved.event?.position) return toLogPosition(resolved.event.position);
    }
    return null;
  }
}

function toLogPosition(position: Position): LogPosition {
  return { transactionId: position.commit, globalPosition: position.prepare };
}

function toRecordedEvent(event: EsdbRecordedEvent): RecordedEvent {
  if (!event.position) throw new Error('EventStoreDB returned an event without its log position; AlertOps needs server 22.6 or newer');
  if (!event.isJson) throw new Error(`event ${event.id} in ${event.streamId} is not JSON; it was not written by AlertOps`);
  const metadata = StoredMetadata.parse(event.metadata);
  return {
    streamId: event.streamId,
    streamVersion: Number(event.revision),
    eventId: event.id,
    type: event.type,
    schemaVersion: metadata.schemaVersion,
    data: event.data,
    metadata: {
      actor: metadata.actor,
      correlationId: metadata.correlationId,
      causationId: metadata.causationId,
      teamId: metadata.teamId,
      prevHash: metadata.prevHash,
      hash: metadata.hash,
    },
    recordedAt: new Date(metadata.recordedAt),
    position: toLogPosition(event.position),
  };
}
