import { randomUUID } from 'node:crypto';
import type { Pool } from '../infra/postgres.js';
import {
  type AppendResult,
  type EventMetadata,
  type EventStore,
  type ExpectedVersion,
  type LogPosition,
  type NewEvent,
  type ReadAllOptions,
  type RecordedEvent,
  DuplicateEventIdError,
  WrongExpectedVersionError,
} from './types.js';
import { EventMetadataSchema } from './metadata.js';


interface EventRow {
  stream_id: string;
  stream_version: string;
  event_id: string;
  event_type: string;
  schema_version: number;
  data: unknown;
  metadata: unknown;
  recorded_at: Date;
  prev_hash: string | null;
  hash: string;
  transaction_id: string;
  global_position: string;
}

const EVENT_COLUMNS = `stream_id, stream_version, event_id, event_type, schema_version, data, metadata, recorded_at,
  prev_hash, hash, transaction_id::text as transaction_id, global_position`;

export function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    streamId: row.stream_id,
    streamVersion: Number(row.stream_version),
    eventId: row.event_id,
    type: row.event_type,
    schemaVersion: row.schema_version,
    data: row.data,
    metadata: { ...EventMetadataSchema.parse(row.metadata), prevHash: row.prev_hash, hash: row.hash },
    recordedAt: row.recorded_at,
    position: { transactionId: BigInt(row.transaction_id), globalPosition: BigInt(row.global_position) },
  };
}

/** Where subscribers hear that the log has grown (a hint: they also poll). */
export const EVENTS_CHANNEL = 'alertops_events';
const ANNOUNCE_SPACING_MS = 5;

export class PostgresEventStore implements EventStore {
  private announcing = false;
  private announceAgain = false;

  constructor(private readonly pool: Pool) {}

  async append(
    streamId: string,
    events: readonly NewEvent[],
    options: { expectedVersion: ExpectedVersion; metadata: EventMetadata },
  ): Promise<AppendResult> {
    if (events.length === 0) throw new Error('append needs at least one event');
    const payload = events.map((event) => ({
      eventId: event.eventId ?? randomUUID(),
      eventType: event.type,
      schemaVersion: event.schemaVersion ?? 1,
      data: event.data,
      metadata: options.metadata,
    }));
    try {
      const { rows } = await this.pool.query<{ stream_version: string; transaction_id: string; global_position: string }>({
        name: 'append-events',
        text: `select stream_version, transaction_id::text as transaction_id, global_position from append_events($1, $2, $3)`,
        values: [streamId, String(options.expectedVersion), JSON.stringify(payload)],
      });
      const row = rows[0]!;
      this.announceAppend();
      return {
        nextExpectedVersion: Number(row.stream_version),
        position: { transactionId: BigInt(row.transaction_id), globalPosition: BigInt(row.global_position) },
      };
    } catch (error) {
      const pgError = error as { code?: string; detail?: string };
      if (pgError.code === 'AO409') {
        throw new WrongExpectedVersionError(streamId, options.expectedVersion, Number(pgError.detail));
      }
      if (pgError.code === '23505' && (error as { constraint?: string }).constraint === 'events_event_id_key') {
        throw new DuplicateEventIdError(streamId);
      }
      throw error;
    }
  }

  /**
   * Notifying inside the append would take PostgreSQL's notify lock at every commit and serialise concurrent
   * writers. One notification after the commit, shared by the appends that land while it is on its way or within
   * a few milliseconds after it, wakes subscribers just as well at a bounded number of transactions per second.
   */
  private announceAppend(): void {
    if (this.announcing) {
      this.announceAgain = true;
      return;
    }
    this.announcing = true;
    void this.pool
      .query('select pg_notify($1, $2)', [EVENTS_CHANNEL, ''])
      .catch(() => undefined)
      .finally(() => {
        setTimeout(() => {
          this.announcing = false;
          if (this.announceAgain) {
            this.announceAgain = false;
            this.announceAppend();
          }
        }, ANNOUNCE_SPACING_MS).unref();
      });
  }

  async readStream(streamId: string, options: { fromVersion?: number; maxCount?: number } = {}): Promise<RecordedEvent[]> {
    const { rows } = await this.pool.query<EventRow>({
      name: 'read-stream',
      text: `select ${EVENT_COLUMNS} from events where stream_id = $1 and stream_version >= $2 order by stream_version limit $3`,
      values: [streamId, options.fromVersion ?? 0, options.maxCount ?? null],
    });
    return rows.map(toRecordedEvent);
  }

  async readAll(options: ReadAllOptions): Promise<RecordedEvent[]> {
    // Only transactions older than every one still in flight are visible, so a late commit can never be
    // overtaken by a reader's checkpoint (the sequence is taken before commit). The page is chosen on the narrow
    // (transaction, position) index alone and its rows fetched by position: choosing on the whole rows lets the
    // planner scan and sort the entire log for every page early in a long log.
    const { until } = options;
    const horizon = until
      ? '(transaction_id, global_position) <= ($4::xid8, $5::bigint)'
      : 'transaction_id < pg_snapshot_xmin(pg_current_snapshot())';
    const { rows } = await this.pool.query<EventRow>(
      `select ${EVENT_COLUMNS} from events
        where global_position = any(array(
                select global_position from events
                 where ${horizon} and (transaction_id, global_position) > ($1::xid8, $2::bigint)
                 order by transaction_id, global_position
                 limit $3))
        order by transaction_id, global_position`,
      [
        options.after.transactionId.toString(),
        options.after.globalPosition.toString(),
        options.maxCount,
        ...(until ? [until.transactionId.toString(), until.globalPosition.toString()] : []),
      ],
    );
    return rows.map(toRecordedEvent);
  }

  async close(): Promise<void> {}
}
