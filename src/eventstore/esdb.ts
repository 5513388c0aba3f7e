import { createHash, randomUUID } from 'node:crypto';
import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  jsonEvent,
  type JSONType,
  NO_STREAM,
  type Position,
  type RecordedEvent as EsdbRecordedEvent,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError as EsdbWrongExpectedVersionError,
} from '@eventstore/db-client';
import { z } from 'zod';
import {
  type AppendResult,
  comparePositions,
  type EventMetadata,
  type EventStore,
  type ReadAllOptions,
  type ExpectedVersion,
  type LogPosition,
  type NewEvent,
  type RecordedEvent,
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

export type HashedContent = Pick<RecordedEvent, 'streamId' | 'streamVersion' | 'eventId' | 'type' | 'schemaVersion' | 'data' | 'recordedAt'> & {
  prevHash: string | null;
  metadata: EventMetadata;
};

/**
 * The per-stream hash chain, computed in TypeScript for stores without SQL: sha256 over the same fields,
 * separated the same way, as the PostgreSQL `event_hash` function. Metadata is serialised with a fixed key
 * order so the hash does not depend on how an object happened to be built.
 */
export function eventHash(content: HashedContent): string {
  const { actor, correlationId, causationId, teamId } = content.metadata;
  const fields = [
    content.prevHash ?? '',
    content.streamId,
    String(content.streamVersion),
    content.eventId,
    content.type,
    String(content.schemaVersion),
    JSON.stringify(content.data ?? null),
    JSON.stringify({ actor, correlationId, causationId, teamId }),
    content.recordedAt.toISOString(),
  ];
  return createHash('sha256').update(fields.join('\x1f'), 'utf8').digest('hex');
}

/** Links in a stream's events (read in order) whose hash or prev_hash does not match. */
export function brokenLinks(events: readonly RecordedEvent[]): { streamVersion: number; reason: string }[] {
  const broken: { streamVersion: number; reason: string }[] = [];
  let previous: RecordedEvent | null = null;
  for (const event of events) {
    const expectedVersion = previous ? previous.streamVersion + 1 : 0;
    const recomputed = eventHash({ ...event, prevHash: event.metadata.prevHash });
    if (event.streamVersion !== expectedVersion) {
      broken.push({ streamVersion: event.streamVersion, reason: `events ${expectedVersion}..${event.streamVersion - 1} are missing` });
    } else if (event.metadata.prevHash !== (previous?.metadata.hash ?? null)) {
      broken.push({ streamVersion: event.streamVersion, reason: 'prev_hash does not match the hash of the previous event' });
    } else if (recomputed !== event.metadata.hash) {
      broken.push({ streamVersion: event.streamVersion, reason: "hash does not match the event's content" });
    }
    previous = event;
  }
  return broken;
}

const isSystemEvent = (streamId: string, type: string) => streamId.startsWith('$') || type.startsWith('$');

/**
 * The EventStore interface on EventStoreDB/KurrentDB. Revisions are the server's own (0-based), `$all`
 * positions map commit -> transactionId and prepare -> globalPosition, and system events are left out.
 * Appending reads the stream head first to extend the hash chain, then writes with that exact revision,
 * so a concurrent writer can never leave two events pointing at the same predecessor.
 */
export class EventStoreDbEventStore implements EventStore {
  constructor(private readonly client: EventStoreDBClient) {}

  static connect(connectionString: string): EventStoreDbEventStore {
    return new EventStoreDbEventStore(EventStoreDBClient.connectionString(connectionString));
  }

  async append(
    streamId: string,
    events: readonly NewEvent[],
    options: { expectedVersion: ExpectedVersion; metadata: EventMetadata },
  ): Promise<AppendResult> {
    if (events.length === 0) throw new Error('append needs at least one event');
    const eventIds = events.map((event) => event.eventId ?? randomUUID());
    for (;;) {
      const head = await this.streamHead(streamId);
      if (!satisfies(options.expectedVersion, head.revision)) {
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

  async readStream(streamId: string, options: { fromVersion?: number; maxCount?: number } = {}): Promise<RecordedEvent[]> {
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
  }

  async readAll(options: ReadAllOptions): Promise<RecordedEvent[]> {
    const recorded: RecordedEvent[] = [];
    let lastSeen = options.after;
    for (;;) {
      // A read includes the event at its start position, and system events count against maxCount: ask
      // for one more than still needed and read on while filtering leaves the page short.
      const wanted = options.maxCount - recorded.length + 1;
      const fromStart = lastSeen.transactionId === 0n && lastSeen.globalPosition === 0n;
      const reading = this.client.readAll({
        direction: FORWARDS,
        fromPosition: fromStart ? START : { commit: lastSeen.transactionId, prepare: lastSeen.globalPosition },
        maxCount: wanted,
      });
      let seen = 0;
      for await (const resolved of reading) {
        seen++;
        const event = resolved.event;
        if (!event) continue;
        const position = toLogPosition(event.position);
        if (comparePositions(position, lastSeen) <= 0) continue;
        if (options.until && comparePositions(position, options.until) > 0) {
          await reading.cancel().catch(() => undefined);
          return recorded;
        }
        lastSeen = position;
        if (isSystemEvent(event.streamId, event.type)) continue;
        recorded.push(toRecordedEvent(event));
        if (recorded.length === options.maxCount) {
          await reading.cancel().catch(() => undefined);
          return recorded;
        }
      }
      if (seen < wanted) return recorded;
    }
  }

  async close(): Promise<void> {
    await this.client.dispose();
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

function satisfies(expected: ExpectedVersion, revision: number): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return revision === -1;
    case 'stream_exists':
      return revision !== -1;
    default:
      return revision === expected;
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
