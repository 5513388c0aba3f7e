/** 0-based revision of the last event in the stream, or one of the symbolic expectations (as EventStoreDB counts). */
export type ExpectedVersion = 'any' | 'no_stream' | 'stream_exists' | number;

/** Whether a stream at `revision` (-1: no stream) meets the expectation. */
export function meetsExpectedVersion(expected: ExpectedVersion, revision: number): boolean {
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

/** Where an event sits in the global log; ordered by transaction id, then position. */
export interface LogPosition {
  transactionId: bigint;
  globalPosition: bigint;
}

export const START_OF_LOG: LogPosition = { transactionId: 0n, globalPosition: 0n };

export function comparePositions(a: LogPosition, b: LogPosition): number {
  if (a.transactionId !== b.transactionId) return a.transactionId < b.transactionId ? -1 : 1;
  if (a.globalPosition !== b.globalPosition) return a.globalPosition < b.globalPosition ? -1 : 1;
  return 0;
}

export function formatPosition(position: LogPosition): string {
  return `${position.transactionId}-${position.globalPosition}`;
}

export function parsePosition(text: string): LogPosition | null {
  const match = /^(\d{1,20})-(\d{1,20})$/.exec(text.trim());
  if (!match) return null;
  return { transactionId: BigInt(match[1]!), globalPosition: BigInt(match[2]!) };
}

/**
 * Who caused an event: `user:<id>`, `integration:<keyId>`, `system:<component>`, `link:<deliveryId>` (an action link
 * paged to an address), or `token:<tokenId>` (a team's API token).
 */
export type Actor = `user:${string}` | `integration:${string}` | `system:${string}` | `link:${string}` | `token:${string}`;

export interface EventMetadata {
  actor: Actor;
  correlationId: string;
  causationId: string | null;
  teamId: string | null;
  /** The W3C trace context the event was appended in (when tracing records it), so what the event sets off joins that trace. */
  traceparent?: string;
}

export interface RecordedMetadata extends EventMetadata {
  prevHash: string | null;
  hash: string;
}

export interface NewEvent {
  type: string;
  data: unknown;
  schemaVersion?: number;
  eventId?: string;
}

export interface RecordedEvent {
  streamId: string;
  streamVersion: number;
  eventId: string;
  type: string;
  schemaVersion: number;
  data: unknown;
  metadata: RecordedMetadata;
  recordedAt: Date;
  position: LogPosition;
}

export interface AppendResult {
  nextExpectedVersion: number;
  position: LogPosition;
}

export interface ReadAllOptions {
  after: LogPosition;
  maxCount: number;
  until?: LogPosition;
}

/** A stream's category: what its id holds before its first `-` (`team` for `team-<id>`). */
export const streamCategory = (streamId: string): string => streamId.split('-', 1)[0]!;

/** A team's part of the log, newest first: its events in streams of the given categories. */
export interface TeamLogQuery {
  teamId: string;
  /** Stream categories (see streamCategory): `team`, `flow`. */
  categories: readonly string[];
  /** Only events whose global position is below this one: the cursor a previous page ended at. */
  before?: bigint;
  maxCount: number;
}

/** One reader's view of the appends its store announces (see `EventStore.watchAppends`). */
export interface AppendWatch {
  /**
   * Resolves when the log may hold events this reader has not read: at once when an append was announced since the
   * last call, otherwise at the next announcement, or earlier when the store cannot tell (PostgreSQL: a commit may
   * become visible later than it was announced). A hint, never a delivery: the reader reads the log with `readAll`,
   * and also now and then without a hint. Resolves at once once the watch is closed.
   */
  next(): Promise<void>;
  close(): Promise<void>;
}

export interface BrokenLink {
  streamId: string;
  streamVersion: number;
  reason: string;
}

export interface HashChainReport {
  streams: number;
  events: number;
  broken: BrokenLink[];
}

/**
 * The event log. Everything outside `src/eventstore` reads and writes the log through this interface alone, whichever
 * store holds it.
 */
export interface EventStore {
  /** The dependency that holds the log, as /readyz names it; null when the log lives in this process. */
  readonly dependency: 'postgres' | 'eventstoredb' | null;
  append(
    streamId: string,
    events: readonly NewEvent[],
    options: { expectedVersion: ExpectedVersion; metadata: EventMetadata },
  ): Promise<AppendResult>;
  readStream(streamId: string, options?: { fromVersion?: number; maxCount?: number }): Promise<RecordedEvent[]>;
  /**
   * Events after `after` in log order, never skipping one that commits later below a position already returned.
   * With `until` (a position some reader of this log has passed, so everything up to it has committed), events up
   * to and including it, without waiting for later transactions.
   */
  readAll(options: ReadAllOptions): Promise<RecordedEvent[]>;
  /** The last `maxCount` events `readAll` shows now, in log order: reading on after the last of them misses nothing. */
  readLast(maxCount: number): Promise<RecordedEvent[]>;
  /** The position of the last event `readAll` shows now; START_OF_LOG for an empty log. */
  headPosition(): Promise<LogPosition>;
  /** How many events `readAll` shows after `after` (up to and including `until`, when given). */
  countEvents(options: { after: LogPosition; until?: LogPosition }): Promise<number>;
  /** A team's events in streams of some categories, newest first, every committed one (not only what `readAll` shows). */
  readTeamLog(query: TeamLogQuery): Promise<RecordedEvent[]>;
  /** Announces appends of events of `types` (any, when omitted) to one reader of the global log, until closed. */
  watchAppends(options: { types?: ReadonlySet<string> }): AppendWatch;
  /**
   * Follows every stream's hash chain (each event's hash over its content, and its link to the previous event's hash),
   * so an edited, deleted or reordered event shows up. Appends made meanwhile are never reported as damage.
   */
  verifyHashChains(options?: { maxBroken?: number }): Promise<HashChainReport>;
  /** Resolves once the store has answered; rejects (EventStoreUnavailableError) when it cannot be reached. */
  checkHealth(): Promise<void>;
  close(): Promise<void>;
}

export class WrongExpectedVersionError extends Error {
  override name = 'WrongExpectedVersionError';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedVersion,
    readonly actual: number,
  ) {
    super(`stream ${streamId} is at revision ${actual}, expected ${String(expected)}`);
  }
}

/** An event id that is already in the log: an append retried with the ids it was first given. */
export class DuplicateEventIdError extends Error {
  override name = 'DuplicateEventIdError';
  constructor(readonly streamId: string) {
    super(`an event appended to ${streamId} has an id that is already in the log`);
  }
}

/** The store cannot be reached now; the operation may succeed once it can. */
export class EventStoreUnavailableError extends Error {
  override name = 'EventStoreUnavailableError';
}
