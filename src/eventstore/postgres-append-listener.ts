import pg from 'pg';
import type { Pool } from '../infra/postgres.js';
import type { AppendWatch } from './types.js';

/** Where appenders announce that the log has grown (after their commit, see PostgresEventStore). */
export const EVENTS_CHANNEL = 'alertops_events';

/**
 * After a notification the new event may sit behind an older transaction still open (beyond the snapshot's xmin),
 * whose commit sends no notification of its own: wake the reader again after these pauses.
 */
const EAGER_WAKE_PAUSES_MS = [2, 5, 10, 20, 40, 80];
/**
 * Nothing announces the moment an open transaction elsewhere in the cluster ends and lets a committed event become
 * visible, and a notification sent while the listening connection is down is lost: readers are woken this often too.
 */
const FALLBACK_WAKE_MS = 250;

class EagerWake {
  private eager: NodeJS.Timeout | null = null;
  private readonly fallback: NodeJS.Timeout;

  constructor(private readonly wake: () => void) {
    this.fallback = setInterval(wake, FALLBACK_WAKE_MS);
    this.fallback.unref();
  }

  notified(): void {
    if (this.eager) clearTimeout(this.eager);
    this.wake();
    const again = (step: number) => {
      const pause = EAGER_WAKE_PAUSES_MS[step];
      if (pause === undefined) {
        this.eager = null;
        return;
      }
      this.eager = setTimeout(() => {
        this.wake();
        again(step + 1);
      }, pause);
      this.eager.unref();
    };
    again(0);
  }

  stop(): void {
    if (this.eager) clearTimeout(this.eager);
    clearInterval(this.fallback);
  }
}

/**
 * One LISTEN connection per store, shared by every watch of the process, opened while a watch exists and opened
 * again (with backoff) when it is lost. Its own connection rather than one of the pool's: it is held for as long as
 * readers wait, and the pool must be able to end without it.
 */
export class AppendListener {
  private readonly wakes = new Set<EagerWake>();
  private client: pg.Client | null = null;
  private connecting = false;
  private failures = 0;
  private retry: NodeJS.Timeout | null = null;

  constructor(private readonly pool: Pool) {}

  watch(wake: () => void): AppendWatch {
    const eagerWake = new EagerWake(wake);
    this.wakes.add(eagerWake);
    void this.listen();
    return {
      close: async () => {
        eagerWake.stop();
        this.wakes.delete(eagerWake);
        if (this.wakes.size === 0) await this.stop();
      },
    };
  }

  async stop(): Promise<void> {
    for (const wake of this.wakes) wake.stop();
    this.wakes.clear();
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    if (this.client || this.connecting || this.wakes.size === 0) return;
    this.connecting = true;
    const client = new pg.Client({ ...this.pool.options, application_name: 'alertops:log-listener' });
    const lost = () => {
      if (this.client !== client) return;
      this.client = null;
      void client.end().catch(() => undefined);
      // Whatever was announced while the connection was down went unheard.
      for (const wake of this.wakes) wake.notified();
      this.reconnectLater();
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', () => {
      for (const wake of this.wakes) wake.notified();
    });
    try {
      await client.connect();
      await client.query(`listen ${EVENTS_CHANNEL}`);
      if (this.wakes.size === 0) {
        await client.end().catch(() => undefined);
        return;
      }
      this.client = client;
      this.failures = 0;
    } catch {
      await client.end().catch(() => undefined);
      this.reconnectLater();
    } finally {
      this.connecting = false;
    }
  }

  private reconnectLater(): void {
    if (this.retry || this.wakes.size === 0) return;
    this.failures++;
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.listen();
    }, Math.min(5000, 100 * 2 ** Math.min(this.failures, 6)));
    this.retry.unref();
  }
}
