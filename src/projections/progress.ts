import pg from 'pg';
import { comparePositions, type LogPosition } from '../eventstore/types.js';
import type { Pool } from '../infra/postgres.js';
import { CHECKPOINTS_CHANNEL } from './runner.js';

interface Waiter {
  position: LogPosition;
  resolve: (reached: boolean) => void;
  timer: NodeJS.Timeout;
}

/**
 * Read-your-writes: resolves once every read model's checkpoint has passed a position, or reports
 * false at the deadline. Woken by the runners' NOTIFY; a slow poll is the guarantee.
 */
export class ProjectionProgress {
  private readonly waiters = new Set<Waiter>();
  private listener: pg.Client | null = null;
  private polling: NodeJS.Timeout | null = null;
  private checking = false;
  private recheck = false;
  private closed = false;

  constructor(
    private readonly pool: Pool,
    private readonly databaseUrl: string,
    private readonly readModelNames: readonly string[],
    private readonly pollMs = 50,
  ) {}

  /** The position every read model has reached; null while one has not started. */
  async lowestCheckpoint(): Promise<LogPosition | null> {
    const { rows } = await this.pool.query<{ transaction_id: string; global_position: string; subscriptions: string }>({
      name: 'lowest-checkpoint',
      text: `select transaction_id::text as transaction_id, global_position, count(*) over () as subscriptions
               from subscription_checkpoints where subscription_name = any($1)
              order by transaction_id, global_position limit 1`,
      values: [this.readModelNames],
    });
    const row = rows[0];
    if (!row || Number(row.subscriptions) < this.readModelNames.length) return null;
    return { transactionId: BigInt(row.transaction_id), globalPosition: BigInt(row.global_position) };
  }

  waitFor(position: LogPosition, timeoutMs: number): Promise<boolean> {
    if (this.closed || this.readModelNames.length === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        position,
        resolve,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          resolve(false);
        }, timeoutMs),
      };
      this.waiters.add(waiter);
      this.ensureListening();
      void this.check();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.polling) clearInterval(this.polling);
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(false);
    }
    this.waiters.clear();
    await this.listener?.end().catch(() => undefined);
    this.listener = null;
  }

  private ensureListening(): void {
    if (!this.polling) this.polling = setInterval(() => void this.check(), this.pollMs);
    if (this.listener) return;
    const listener = new pg.Client({ connectionString: this.databaseUrl, application_name: 'alertops:progress' });
    this.listener = listener;
    listener.on('notification', () => void this.check());
    listener.on('error', () => undefined);
    listener.on('end', () => {
      if (this.listener === listener) this.listener = null;
    });
    listener
      .connect()
      .then(() => listener.query(`listen ${CHECKPOINTS_CHANNEL}`))
      .catch(() => {
        if (this.listener === listener) this.listener = null;
      });
  }

  private async check(): Promise<void> {
    if (this.waiters.size === 0) {
      if (this.polling) clearInterval(this.polling);
      this.polling = null;
      return;
    }
    if (this.checking) {
      this.recheck = true;
      return;
    }
    this.checking = true;
    try {
      const reached = await this.lowestCheckpoint().catch(() => null);
      if (reached) {
        for (const waiter of this.waiters) {
          if (comparePositions(reached, waiter.position) >= 0) {
            clearTimeout(waiter.timer);
            this.waiters.delete(waiter);
            waiter.resolve(true);
          }
        }
      }
    } finally {
      this.checking = false;
    }
    if (this.recheck) {
      this.recheck = false;
      void this.check();
    }
  }
}
