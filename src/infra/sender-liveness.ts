import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Logger } from './logger.js';
import type { Pool } from './postgres.js';

/** The advisory-lock namespace of senders; the second key is hashtext(sender id). */
const SENDER_LOCK_CLASS = 'alertops.sender';

/**
 * This process as a sender of notifications, and which senders have stopped. A sender holds an advisory lock on a
 * connection of its own for as long as it lives, and through that connection marks itself alive at every refresh.
 * PostgreSQL frees the lock when the process or its connection dies. A registered sender whose lock is free and
 * whose last mark is older than `staleAfterMs` has stopped sending: a live sender whose connection was cut (a
 * database restart, a terminated backend) takes its lock again well within that. Only that proof counts: a sender
 * not yet seen is presumed alive.
 */
export class SenderLiveness {
  readonly senderId = randomUUID();
  private connection: pg.Client | null = null;
  private registering: Promise<void> | null = null;
  private stopped: readonly string[] = [];
  private refreshing: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly pool: Pool,
    private readonly databaseUrl: string,
    private readonly logger: Logger,
    private readonly refreshMs = 1000,
    private readonly staleAfterMs = 3000,
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

  /** Senders seen stopped at the last refresh. */
  stoppedSenders(): readonly string[] {
    return this.stopped;
  }

  async refresh(): Promise<readonly string[]> {
    await this.markAlive();
    const { rows } = await this.pool.query<{ sender_id: string }>(
      `with unlocked as (
         update senders s set seen_stopped_at = coalesce(s.seen_stopped_at, now())
          where not exists (select 1 from pg_locks l
                             where l.locktype = 'advisory' and l.granted and l.objsubid = 2
                               and l.database = (select oid from pg_database where datname = current_database())
                               and l.classid = hashtext($1)::oid and l.objid = hashtext(s.sender_id)::oid)
         returning s.sender_id, s.alive_at)
       select sender_id from unlocked where alive_at < now() - make_interval(secs => $2)`,
      [SENDER_LOCK_CLASS, this.staleAfterMs / 1000],
    );
    // Attempts of a sender stopped this long ago have outlived their lease: the row has nothing left to prove.
    await this.pool.query(`delete from senders where seen_stopped_at < now() - interval '10 minutes'`);
    this.stopped = rows.map((row) => row.sender_id).filter((sender) => sender !== this.senderId);
    return this.stopped;
  }

  /** Through the lock's own connection, so only a sender that holds its lock can say it is alive. */
  private async markAlive(): Promise<void> {
    if (this.closed) return;
    const connection = this.connection;
    if (connection) {
      try {
        await connection.query('update senders set alive_at = now(), seen_stopped_at = null where sender_id = $1', [this.senderId]);
        return;
      } catch (error) {
        if (this.connection === connection) this.connection = null;
        await connection.end().catch(() => undefined);
        this.logger.warn({ err: error, senderId: this.senderId }, 'the sender lost its liveness lock; registering again');
      }
    }
    await this.register();
  }

  /** Takes the lock on a new connection; concurrent callers share one attempt. */
  private register(): Promise<void> {
    this.registering ??= this.lockOnNewConnection().finally(() => {
      this.registering = null;
    });
    return this.registering;
  }

  private async lockOnNewConnection(): Promise<void> {
    const connection = new pg.Client({ connectionString: this.databaseUrl, application_name: 'alertops:sender' });
    connection.on('error', () => undefined);
    connection.on('end', () => {
      if (this.connection !== connection) return;
      this.connection = null;
      // Take the lock again at once rather than at the next refresh, while the last mark of life is fresh.
      if (!this.closed) {
        this.register().catch((error: unknown) => this.logger.warn({ err: error, senderId: this.senderId }, 'the sender could not take its liveness lock again yet'));
      }
    });
    await connection.connect();
    try {
      await connection.query('select pg_advisory_lock(hashtext($1), hashtext($2))', [SENDER_LOCK_CLASS, this.senderId]);
      await connection.query(
        `insert into senders (sender_id) values ($1)
         on conflict (sender_id) do update set seen_stopped_at = null, alive_at = now()`,
        [this.senderId],
      );
    } catch (error) {
      await connection.end().catch(() => undefined);
      throw error;
    }
    if (this.closed) {
      await connection.end().catch(() => undefined);
      return;
    }
    this.connection = connection;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.refreshing) clearTimeout(this.refreshing);
    await this.registering?.catch(() => undefined);
    const connection = this.connection;
    this.connection = null;
    await connection?.end().catch(() => undefined);
  }
}
