import { randomUUID } from 'node:crypto';
import type { Pool } from '../infra/postgres.js';
import {
  type AppendResult,
  type AppendWatch,
  type EventMetadata,
  type EventStore,
  type ExpectedVersion,
  type HashChainReport,
  type LogPosition,
  type NewEvent,
  type ReadAllOptions,
  type RecordedEvent,
  type TeamLogQuery,
  DuplicateEventIdError,
  EventStoreUnavailableError,
  START_OF_LOG,
  WrongExpectedVersionError,
} from './types.js';
import { EventMetadataSchema } from './metadata.js';
import { AppendListener, EVENTS_CHANNEL } from './postgres-append-listener.js';
import { verifyHashChains } from './verify.js';


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

function toRecordedEvent(row: EventRow): RecordedEvent {
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

const ANNOUNCE_SPACING_MS = 5;
/** Only transactions older than every one still in flight: a late commit can never land below what a reader saw. */
const VISIBLE = 'transaction_id < pg_snapshot_xmin(pg_current_snapshot())';

const positionParameters = (position: LogPosition) => [position.transactionId.toString(), position.globalPosition.toString()];

export class PostgresEventStore implements EventStore {
  readonly dependency = 'postgres';
  private announcing = false;
  private announceAgain = false;
  private readonly listener: AppendListener;

  constructor(private readonly pool: Pool) {
    this.listener = new AppendListener(pool);
  }

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
    const horizon = until ? '(transaction_id, global_position) <= ($4::xid8, $5::bigint)' : VISIBLE;
    const { rows } = await this.pool.query<EventRow>(
      `select ${EVENT_COLUMNS} from events
        where global_position = any(array(
                select global_position from events
                 where ${horizon} and (transaction_id, global_position) > ($1::xid8, $2::bigint)
                 order by transaction_id, global_position
                 limit $3))
        order by transaction_id, global_position`,
      [...positionParameters(options.after), options.maxCount, ...(until ? positionParameters(until) : [])],
    );
    return rows.map(toRecordedEvent);
  }

  async readLast(maxCount: number): Promise<RecordedEvent[]> {
    const { rows } = await this.pool.query<EventRow>(
      `select * from (
         select ${EVENT_COLUMNS}, transaction_id as tx from events where ${VISIBLE}
          order by transaction_id desc, global_position desc limit $1) recent
        order by tx, global_position`,
      [maxCount],
    );
    return rows.map(toRecordedEvent);
  }

  async headPosition(): Promise<LogPosition> {
    const { rows } = await this.pool.query<{ transaction_id: string; global_position: string }>(
      `select transaction_id::text as transaction_id, global_position from events where ${VISIBLE}
        order by transaction_id desc, global_position desc limit 1`,
    );
    const row = rows[0];
    return row ? { transactionId: BigInt(row.transaction_id), globalPosition: BigInt(row.global_position) } : START_OF_LOG;
  }

  async countEvents(options: { after: LogPosition; until?: LogPosition }): Promise<number> {
    const { until } = options;
    const horizon = until ? '(transaction_id, global_position) <= ($3::xid8, $4::bigint)' : VISIBLE;
    const { rows } = await this.pool.query<{ count: string }>(
      `select count(*) as count from events where ${horizon} and (transaction_id, global_position) > ($1::xid8, $2::bigint)`,
      [...positionParameters(options.after), ...(until ? positionParameters(until) : [])],
    );
    return Number(rows[0]!.count);
  }

  async readTeamLog(query: TeamLogQuery): Promise<RecordedEvent[]> {
    const streamPatterns = query.categories.map((category) => `${category.replace(/[\\%_]/g, '\\$&')}-%`);
    const { rows } = await this.pool.query<EventRow>(
      `select ${EVENT_COLUMNS} from events
        where metadata->>'teamId' = $1 and stream_id like any($2) and ($3::bigint is null or global_position < $3)
        order by global_position desc
        limit $4`,
      [query.teamId, streamPatterns, query.before?.toString() ?? null, query.maxCount],
    );
    return rows.map(toRecordedEvent);
  }

  watchAppends(_options: { types?: ReadonlySet<string> }): AppendWatch {
    // A notification names no event type: every watch hears of every append.
    return this.listener.watch();
  }

  verifyHashChains(options: { maxBroken?: number } = {}): Promise<HashChainReport> {
    return verifyHashChains(this.pool, options);
  }

  async checkHealth(): Promise<void> {
    await this.pool.query('select 1').catch((error: Error) => {
      throw new EventStoreUnavailableError(`PostgreSQL does not answer: ${error.message}`);
    });
  }

  async close(): Promise<void> {
    await this.listener.stop();
  }
}
