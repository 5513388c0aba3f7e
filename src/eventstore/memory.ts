import { randomUUID } from 'node:crypto';
import { AppendSignal } from './append-signal.js';
import { eventHash, verifyChainsInLog } from './hash-chain.js';
import {
  type AppendResult,
  type AppendWatch,
  comparePositions,
  DuplicateEventIdError,
  type EventMetadata,
  type EventStore,
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

interface Watcher {
  types: ReadonlySet<string> | undefined;
  signal: AppendSignal;
}

/** A copy as a JSON store keeps it: what a caller holds can never change the log, nor the log what a caller holds. */
const stored = <T>(value: T): T => (value === undefined ? (null as T) : (JSON.parse(JSON.stringify(value)) as T));

/**
 * The log in this process's memory, for tests and demos: it is gone when the process stops and no other process
 * sees it. Every append runs to completion without yielding, so an append is atomic and the log is in commit order:
 * a position is one counter, used as both halves of the (transaction, position) pair.
 */
export class InMemoryEventStore implements EventStore {
  readonly dependency = null;
  private readonly log: RecordedEvent[] = [];
  private readonly streams = new Map<string, RecordedEvent[]>();
  private readonly eventIds = new Set<string>();
  private readonly watchers = new Set<Watcher>();

  async append(
    streamId: string,
    events: readonly NewEvent[],
    options: { expectedVersion: ExpectedVersion; metadata: EventMetadata },
  ): Promise<AppendResult> {
    if (events.length === 0) throw new Error('append needs at least one event');
    const stream = this.streams.get(streamId) ?? [];
    const revision = stream.length - 1;
    if (!meetsExpectedVersion(options.expectedVersion, revision)) throw new WrongExpectedVersionError(streamId, options.expectedVersion, revision);
    const eventIds = events.map((event) => event.eventId ?? randomUUID());
    if (new Set(eventIds).size < eventIds.length || eventIds.some((eventId) => this.eventIds.has(eventId))) {
      throw new DuplicateEventIdError(streamId);
    }
    const recordedAt = new Date();
    const metadata = stored(options.metadata);
    let prevHash = stream.at(-1)?.metadata.hash ?? null;
    const appended = events.map((event, index): RecordedEvent => {
      const sequence = BigInt(this.log.length + index + 1);
      const content = {
        streamId,
        streamVersion: revision + 1 + index,
        eventId: eventIds[index]!,
        type: event.type,
        schemaVersion: event.schemaVersion ?? 1,
        data: stored(event.data),
        recordedAt,
      };
      const hash = eventHash({ ...content, prevHash, metadata });
      const recorded = { ...content, metadata: { ...metadata, prevHash, hash }, position: { transactionId: sequence, globalPosition: sequence } };
      prevHash = hash;
      return recorded;
    });
    this.log.push(...appended);
    stream.push(...appended);
    this.streams.set(streamId, stream);
    for (const eventId of eventIds) this.eventIds.add(eventId);
    this.announce(appended);
    const last = appended.at(-1)!;
    return { nextExpectedVersion: last.streamVersion, position: last.position };
  }

  async readStream(streamId: string, options: { fromVersion?: number; maxCount?: number } = {}): Promise<RecordedEvent[]> {
    const from = options.fromVersion ?? 0;
    const stream = this.streams.get(streamId) ?? [];
    return stream.slice(from, options.maxCount === undefined ? undefined : from + options.maxCount).map(copyOf);
  }

  async readAll(options: ReadAllOptions): Promise<RecordedEvent[]> {
    const page: RecordedEvent[] = [];
    for (let index = this.indexAfter(options.after); index < this.log.length && page.length < options.maxCount; index++) {
      const event = this.log[index]!;
      if (options.until && comparePositions(event.position, options.until) > 0) break;
      page.push(copyOf(event));
    }
    return page;
  }

  async readLast(maxCount: number): Promise<RecordedEvent[]> {
    return maxCount > 0 ? this.log.slice(-maxCount).map(copyOf) : [];
  }

  async headPosition(): Promise<LogPosition> {
    return this.log.at(-1)?.position ?? START_OF_LOG;
  }

  async countEvents(options: { after: LogPosition; until?: LogPosition }): Promise<number> {
    const end = options.until ? this.indexAfter(options.until) : this.log.length;
    return Math.max(0, end - this.indexAfter(options.after));
  }

  async readTeamLog(query: TeamLogQuery): Promise<RecordedEvent[]> {
    const categories = new Set(query.categories);
    const page: RecordedEvent[] = [];
    for (let index = this.log.length - 1; index >= 0 && page.length < query.maxCount; index--) {
      const event = this.log[index]!;
      if (query.before !== undefined && event.position.globalPosition >= query.before) continue;
      if (event.metadata.teamId === query.teamId && categories.has(streamCategory(event.streamId))) page.push(copyOf(event));
    }
    return page;
  }

  watchAppends(options: { types?: ReadonlySet<string> }): AppendWatch {
    const watcher: Watcher = { types: options.types, signal: new AppendSignal(() => void this.watchers.delete(watcher)) };
    this.watchers.add(watcher);
    return watcher.signal;
  }

  verifyHashChains(options: { maxBroken?: number } = {}): Promise<HashChainReport> {
    return verifyChainsInLog(this, options);
  }

  async checkHealth(): Promise<void> {}

  async close(): Promise<void> {
    for (const watcher of [...this.watchers]) await watcher.signal.close();
  }

  /** The index of the first event after `position`: positions are 1-based indexes into the log. */
  private indexAfter(position: LogPosition): number {
    return Math.min(this.log.length, Number(position.globalPosition));
  }

  private announce(appended: readonly RecordedEvent[]): void {
    for (const watcher of this.watchers) {
      const { types } = watcher;
      if (!types || appended.some((event) => types.has(event.type))) watcher.signal.announce();
    }
  }
}

function copyOf(event: RecordedEvent): RecordedEvent {
  return { ...event, data: stored(event.data), metadata: { ...event.metadata }, recordedAt: new Date(event.recordedAt), position: { ...event.position } };
}
