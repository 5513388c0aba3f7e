import { createHash } from 'node:crypto';
import {
  type BrokenLink,
  type EventMetadata,
  type EventStore,
  type HashChainReport,
  type RecordedEvent,
  START_OF_LOG,
} from './types.js';

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

/** What is wrong with `event` as the successor of `previous` in its stream (null: the first event); null if nothing. */
function linkDamage(previous: Pick<RecordedEvent, 'streamVersion' | 'metadata'> | null, event: RecordedEvent): string | null {
  const expectedVersion = previous ? previous.streamVersion + 1 : 0;
  if (event.streamVersion !== expectedVersion) return `events ${expectedVersion}..${event.streamVersion - 1} are missing`;
  if (event.metadata.prevHash !== (previous?.metadata.hash ?? null)) return 'prev_hash does not match the hash of the previous event';
  if (eventHash({ ...event, prevHash: event.metadata.prevHash }) !== event.metadata.hash) return "hash does not match the event's content";
  return null;
}

/** Links in a stream's events (read in order) whose hash or prev_hash does not match. */
export function brokenLinks(events: readonly RecordedEvent[]): { streamVersion: number; reason: string }[] {
  const broken: { streamVersion: number; reason: string }[] = [];
  let previous: RecordedEvent | null = null;
  for (const event of events) {
    const reason = linkDamage(previous, event);
    if (reason) broken.push({ streamVersion: event.streamVersion, reason });
    previous = event;
  }
  return broken;
}

const PAGE = 1000;

/**
 * Hash-chain verification for stores without SQL, whose global log holds each stream's events in revision order
 * (EventStoreDB, the in-memory store): one pass over the log up to its head when the pass starts, remembering only
 * the last link of each stream.
 */
export async function verifyChainsInLog(
  store: Pick<EventStore, 'readAll' | 'headPosition'>,
  options: { maxBroken?: number } = {},
): Promise<HashChainReport> {
  const maxBroken = options.maxBroken ?? 1000;
  const lastLinks = new Map<string, Pick<RecordedEvent, 'streamVersion' | 'metadata'>>();
  const broken: BrokenLink[] = [];
  const until = await store.headPosition();
  let after = START_OF_LOG;
  let events = 0;
  for (;;) {
    const page = await store.readAll({ after, maxCount: PAGE, until });
    if (page.length === 0) break;
    for (const event of page) {
      const reason = linkDamage(lastLinks.get(event.streamId) ?? null, event);
      if (reason && broken.length < maxBroken) broken.push({ streamId: event.streamId, streamVersion: event.streamVersion, reason });
      lastLinks.set(event.streamId, event);
    }
    events += page.length;
    after = page.at(-1)!.position;
  }
  broken.sort((a, b) => (a.streamId === b.streamId ? a.streamVersion - b.streamVersion : a.streamId < b.streamId ? -1 : 1));
  return { streams: lastLinks.size, events, broken };
}
