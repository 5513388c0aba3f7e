/** 0-based revision of the last event in the stream, or one of the symbolic expectations (as EventStoreDB counts). */
export type ExpectedVersion = 'any' | 'no_stream' | 'stream_exists' | number;

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

/** Who caused an event: `user:<id>`, `integration:<keyId>`, `system:<component>`, or `link:<deliveryId>` (an action link paged to an address). */
export type Actor = `user:${string}` | `integration:${string}` | `system:${string}` | `link:${string}`;

export interface EventMetadata {
  actor: Actor;
  correlationId: string;
  causationId: string | null;
  teamId: string | null;
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

export interface EventStore {
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
