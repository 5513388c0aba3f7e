import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Logger } from './logger.js';
import type { Pool } from './postgres.js';

/** The advisory-lock namespace of senders; the second key is hashtext(sender id). */
const SENDER_LOCK_CLASS = 'alertops.sender';

/**
 * This process as a sender of notifications, and which senders have stopped. A sender holds an advisory lock on a
 * connection of its own for as long as it lives; PostgreSQL frees the lock when the process or its connection
 * dies, so a registered sender whose lock is free has provably stopped sending. Only that proof counts: a sender
 * not yet seen is presumed alive.
 */
export class SenderLiveness {
  readonly senderId = randomUUID();
  private connection: pg.Client | null = null;
  private stopped: readonly string[] = [];
  private refreshing: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly pool: Pool,
    private readonly databaseUrl: string,
    private readonly logger: Logger,
    private readonly refreshMs = 1000,
  ) {}

  async start(): Promise<void> {
    await this.register();
    await this.refresh();
    const loop = () => {
      if (this.closed) return;
      this.refreshing = setTimeout(() => {
        void this.refresh()
          .catch((error: unknown) => this.logger.warn({ err: error }, 'could not refresh which senders have stopped'))
          .finally(loop);
      }, this.refreshMs);
    };
    loop();
  }

  /** Senders whose lock was free at the last refresh. */
  stoppedSenders(): readonly string[] {
    return this.stopped;
  }

  async refresh(): Promise<readonly string[]> {
    const { rows } = await this.pool.query<{ sender_id: string }>(
      `with stopped as (
         update senders s set seen_stopped_at = coalesce(s.seen_stopped_at, now())
          where not exists (select 1 from pg_locks l
                             where l.locktype = 'advisory' and l.granted and l.objsubid = 2
                               and l.database = (select oid from pg_database where datname = current_database())
                               and l.classid = hashtext($1)::oid and l.objid = hashtext(s.sender_id)::oid)
         returning s.sender_id, s.seen_stopped_at)
       select sender_id from stopped`,
      [SENDER_LOCK_CLASS],
    );
    // Attempts of a sender stopped this long ago have outlived their lease: the row has nothing left to prove.
    await this.pool.query(`delete from senders where seen_stopped_at < now() - interval '10 minutes'`);
    const stopped = rows.map((row) => row.sender_id);
    if (stopped.includes(this.senderId) && !this.closed) {
      // Our lock went with a dropped connection: take it again on a new one.
      this.logger.warn({ senderId: this.senderId }, 'the sender lost its liveness lock; registering again');
      await this.connection?.end().catch(() => undefined);
      this.connection = null;
      await this.register();
    }
    this.stopped = stopped.filter((sender) => sender !== this.senderId);
    return this.stopped;
  }

  private async register(): Promise<void> {
    const connection = new pg.Client({ connectionString: this.databaseUrl, application_name: 'alertops:sender' });
    connection.on('error', () => undefined);
    connection.on('end', () => {
      if (this.connection === connection) this.connection = null;
    });
    await connection.connect();
    try {
      await connection.query('select pg_advisory_lock(hashtext($1), hashtext($2))', [SENDER_LOCK_CLASS, this.senderId]);
      await connection.query('insert into senders (sender_id) values ($1) on conflict (sender_id) do update set seen_stopped_at = null', [
        this.senderId,
      ]);
    } catch (error) {
      await connection.end().catch(() => undefined);
      throw error;
    }
    this.connection = connection;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.refreshing) clearTimeout(this.refreshing);
    const connection = this.connection;
    this.connection = null;
    await connection?.end().catch(() => undefined);
  }
}
