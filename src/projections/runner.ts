import pg from 'pg';
import type { EventCatalog } from '../eventstore/catalog.js';
import {
  type AppendWatch,
  comparePositions,
  type EventStore,
  EventStoreUnavailableError,
  type LogPosition,
  type RecordedEvent,
  START_OF_LOG,
} from '../eventstore/types.js';
import type { Logger } from '../infra/logger.js';
import type { ProjectedEvent } from './projection.js';
import type { ReadModelTransaction } from './read-model-batch.js';

/** A named consumer of the global log with its own checkpoint: a read model or a reactor. */
export interface Subscription {
  name: string;
  handles: ReadonlySet<string>;
  /** Called inside the transaction that also moves the checkpoint; throwing rolls both back. */
  handleBatch(tx: ReadModelTransaction, events: ProjectedEvent[]): Promise<void>;
}

/** Parses a page of the log into the events a subscription reads. */
function projectedEvents(recorded: readonly RecordedEvent[], handles: ReadonlySet<string>, catalog: EventCatalog): ProjectedEvent[] {
  const relevant: ProjectedEvent[] = [];
  for (const event of recorded) {
    if (!handles.has(event.type)) continue;
    const parsed = catalog.parse(event);
    relevant.push({
      type: parsed.type,
      data: parsed.data,
      streamId: event.streamId,
      streamVersion: event.streamVersion,
      eventId: event.eventId,
      metadata: event.metadata,
      recordedAt: event.recordedAt,
      position: event.position,
    } as ProjectedEvent);
  }
  return relevant;
}

/** Hands a page of the log to a subscription inside `tx`: the events it reads, parsed. Returns how many it read. */
export async function applyPage(tx: ReadModelTransaction, subscription: Subscription, recorded: readonly RecordedEvent[], catalog: EventCatalog): Promise<number> {
  const events = projectedEvents(recorded, subscription.handles, catalog);
  if (events.length > 0) await subscription.handleBatch(tx, events);
  return events.length;
}

/** A driver client as the transaction a batch handler sees. */
export function readModelTransaction(client: pg.ClientBase): ReadModelTransaction {
  return { query: (sql, parameters) => client.query(sql, parameters as unknown[]) as never };
}

export const CHECKPOINTS_CHANNEL = 'alertops_checkpoints';
/** A reader never relies on wake-ups alone (and a rebuild may move its checkpoint): it also reads this often. */
const IDLE_READ_MS = 1000;

export interface RunnerOptions {
  databaseUrl: string;
  eventStore: EventStore;
  catalog: EventCatalog;
  logger: Logger;
  batchSize?: number;
  /** How long an idle runner waits for the event store's wake-up before it reads anyway. */
  idlePollMs?: number;
  standbyPollMs?: number;
}

export class CheckpointMovedError extends Error {
  override name = 'CheckpointMovedError';
}

/**
 * Runs one subscription: holds its advisory lock (one live instance across processes), reads the log
 * gap-safely after its checkpoint, and applies each batch and the new checkpoint in one transaction
 * (compare-and-set on the old checkpoint), so a crash between batches neither loses nor repeats work.
 * The event store wakes it when the log may have grown. A run of failures is logged when it starts and when it
 * ends, not at every retry; an unreachable event store is logged by the store itself.
 */
export class SubscriptionRunner {
  private client: pg.Client | null = null;
  private stopping = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private wokenWhileBusy = false;
  private checkpoint: LogPosition = START_OF_LOG;
  /** The page after a position, being read while the batch before it is applied. */
  private readAhead: { after: LogPosition; page: Promise<RecordedEvent[]> } | null = null;
  /** Waiting out a failure: wake-ups and a lost connection must not cut the backoff short. */
  private backingOff = false;
  private active = false;
  private lastError: string | null = null;

  constructor(
    readonly subscription: Subscription,
    private readonly options: RunnerOptions,
  ) {}

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.nudge();
    await this.loop;
    this.loop = null;
  }

  status(): { name: string; active: boolean; checkpoint: LogPosition; lastError: string | null } {
    return { name: this.subscription.name, active: this.active, checkpoint: this.checkpoint, lastError: this.lastError };
  }

  private async run(): Promise<void> {
    const watch = this.options.eventStore.watchAppends({ types: this.subscription.handles });
    try {
      await this.runUntilStopped(watch);
    } finally {
      await watch.close();
    }
  }

  private async runUntilStopped(watch: AppendWatch): Promise<void> {
    let failures = 0;
    let failureLogged = false;
    while (!this.stopping) {
      try {
        await this.connect();
        if (!(await this.tryLock())) {
          this.active = false;
          await this.idle(watch, this.options.standbyPollMs ?? 1000);
          continue;
        }
        this.active = true;
        this.checkpoint = await this.loadCheckpoint();
        while (!this.stopping) {
          const processed = await this.processBatch();
          // Only a batch that went through ends a run of failures: getting the lock again proves nothing.
          if (failureLogged) this.options.logger.info({ subscription: this.subscription.name, failures }, 'subscription running again');
          failures = 0;
          failureLogged = false;
          this.lastError = null;
          if (processed > 0) continue;
          await this.idle(watch, this.options.idlePollMs ?? IDLE_READ_MS);
        }
      } catch (error) {
        failures++;
        this.lastError = (error as Error).message;
        this.active = false;
        if (error instanceof CheckpointMovedError) {
          this.options.logger.info({ subscription: this.subscription.name }, 'checkpoint moved underneath; reloading');
        } else if (error instanceof EventStoreUnavailableError || failureLogged) {
          this.options.logger.debug({ err: error, subscription: this.subscription.name, failures }, 'subscription failed; retrying with backoff');
        } else {
          this.options.logger.error({ err: error, subscription: this.subscription.name }, 'subscription failed; retrying with backoff');
          failureLogged = true;
        }
        await this.disconnect();
        this.backingOff = true;
        this.wokenWhileBusy = false;
        await this.sleep(Math.min(5000, 100 * 2 ** Math.min(failures, 6)));
        this.backingOff = false;
      }
    }
    this.active = false;
    await this.disconnect();
  }

  private async processBatch(): Promise<number> {
    const client = this.connectedClient();
    const batchSize = this.options.batchSize ?? 500;
    const recorded = await this.readPage(this.checkpoint, batchSize);
    if (recorded.length === 0) {
      // A rebuild moves the checkpoint back while this runner idles at the head; having nothing to write,
      // it would never fail the compare-and-set that tells it so.
      const stored = await this.storedCheckpoint();
      if (comparePositions(stored, this.checkpoint) === 0) return 0;
      this.checkpoint = stored;
      return 1;
    }
    const next = recorded.at(-1)!.position;
    // A full page means the log goes on: its next page is read while this one is applied (on another connection).
    if (recorded.length === batchSize) this.prefetch(next, batchSize);
    await client.query('begin');
    try {
      await applyPage(readModelTransaction(client), this.subscription, recorded, this.options.catalog);
      const moved = await client.query(
        `update subscription_checkpoints set transaction_id = $2::xid8, global_position = $3, updated_at = now()
          where subscription_name = $1 and transaction_id = $4::xid8 and global_position = $5`,
        [
          this.subscription.name,
          next.transactionId.toString(),
          next.globalPosition.toString(),
          this.checkpoint.transactionId.toString(),
          this.checkpoint.globalPosition.toString(),
        ],
      );
      if (moved.rowCount !== 1) throw new CheckpointMovedError(`checkpoint of ${this.subscription.name} moved`);
      await client.query('select pg_notify($1, $2)', [CHECKPOINTS_CHANNEL, this.subscription.name]);
      await client.query('commit');
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    }
    this.checkpoint = next;
    return recorded.length;
  }

  /** The page after `after`: the one read ahead if it starts there, else read now. */
  private async readPage(after: LogPosition, maxCount: number): Promise<RecordedEvent[]> {
    const ahead = this.readAhead;
    this.readAhead = null;
    if (ahead && comparePositions(ahead.after, after) === 0) {
      const page = await ahead.page.catch(() => null);
      if (page) return page;
    }
    return this.options.eventStore.readAll({ after, maxCount });
  }

  private prefetch(after: LogPosition, maxCount: number): void {
    const page = this.options.eventStore.readAll({ after, maxCount });
    // A failed read ahead is read again when it is needed; its error belongs to that read.
    page.catch(() => undefined);
    this.readAhead = { after, page };
  }

  private async connect(): Promise<void> {
    if (this.client) return;
    const client = new pg.Client({
      connectionString: this.options.databaseUrl,
      application_name: `alertops:${this.subscription.name}`,
      connectionTimeoutMillis: 10_000,
    });
    client.on('error', (error) => {
      this.lastError = error.message;
      this.nudge();
    });
    client.on('end', () => {
      if (this.client === client) this.client = null;
      this.nudge();
    });
    await client.connect();
    this.client = client;
  }

  private async disconnect(): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async tryLock(): Promise<boolean> {
    const { rows } = await this.connectedClient().query<{ locked: boolean }>(
      `select pg_try_advisory_lock(hashtext('alertops.subscription'), hashtext($1)) as locked`,
      [this.subscription.name],
    );
    return rows[0]!.locked;
  }

  private async loadCheckpoint(): Promise<LogPosition> {
    await this.connectedClient().query('insert into subscription_checkpoints (subscription_name) values ($1) on conflict do nothing', [
      this.subscription.name,
    ]);
    return this.storedCheckpoint();
  }

  private async storedCheckpoint(): Promise<LogPosition> {
    const { rows } = await this.connectedClient().query<{ transaction_id: string; global_position: string }>(
      'select transaction_id::text as transaction_id, global_position from subscription_checkpoints where subscription_name = $1',
      [this.subscription.name],
    );
    const row = rows[0]!;
    return { transactionId: BigInt(row.transaction_id), globalPosition: BigInt(row.global_position) };
  }

  private connectedClient(): pg.Client {
    if (!this.client) throw new Error(`${this.subscription.name} lost its database connection`);
    return this.client;
  }

  /** Until the store announces appends, `ms` pass, or the runner is stopped or loses its connection. */
  private async idle(watch: AppendWatch, ms: number): Promise<void> {
    await Promise.race([watch.next(), this.sleep(ms)]);
    this.wake?.();
  }

  // A stop or a lost connection that comes while a batch is being read must not wait for the next idle read.
  private nudge(): void {
    if (this.backingOff && !this.stopping) return;
    if (this.wake) this.wake();
    else this.wokenWhileBusy = true;
  }

  private sleep(ms: number): Promise<void> {
    if (this.wokenWhileBusy || this.stopping) {
      this.wokenWhileBusy = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }
}
