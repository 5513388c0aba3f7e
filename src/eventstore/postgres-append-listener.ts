import pg from 'pg';
import type { Pool } from '../infra/postgres.js';
import { AppendSignal } from './append-signal.js';
import type { AppendWatch } from './types.js';

/** Where appenders announce that the log has grown (after their commit, see PostgresEventStore). */
export const EVENTS_CHANNEL = 'alertops_events';

/**
 * After a notification the new event may sit behind an older transaction still open (beyond the snapshot's xmin),
 * whose commit sends no notification of its own: a reader that found nothing looks again after these pauses.
 */
const EAGER_WAIT_PAUSES_MS = [2, 5, 10, 20, 40, 80];
/**
 * Nothing announces the moment an open transaction elsewhere in the cluster ends and lets a committed event become
 * visible, and a notification sent while the listening connection is down is lost: a reader looks at least this often.
 */
const FALLBACK_WAIT_MS = 250;

/** A reader's notifications, with the quick second looks that late visibility asks for. */
class EagerAppendSignal extends AppendSignal {
  private eagerStep = EAGER_WAIT_PAUSES_MS.length;

  notified(): void {
    this.eagerStep = 0;
    this.announce();
  }

  protected override longestWaitMs(): number {
    const pause = EAGER_WAIT_PAUSES_MS[this.eagerStep];
    if (pause === undefined) return FALLBACK_WAIT_MS;
    this.eagerStep++;
    return pause;
  }
}

/**
 * One LISTEN connection per store, shared by every watch of the process, opened while a watch exists and opened
 * again (with backoff) when it is lost. Its own connection rather than one of the pool's: it is held for as long as
 * readers wait, and the pool must be able to end without it.
 */
export class AppendListener {
  private readonly signals = new Set<EagerAppendSignal>();
  private client: pg.Client | null = null;
  private connecting = false;
  private failures = 0;
  private retry: NodeJS.Timeout | null = null;

  constructor(private readonly pool: Pool) {}

  watch(): AppendWatch {
    const signal = new EagerAppendSignal(async () => {
      if (this.signals.delete(signal) && this.signals.size === 0) await this.disconnect();
    });
    this.signals.add(signal);
    void this.listen();
    return signal;
  }

  /** Releases every reader waiting on this listener, and closes its connection. */
  async stop(): Promise<void> {
    const signals = [...this.signals];
    this.signals.clear();
    for (const signal of signals) await signal.close();
    await this.disconnect();
  }

  private async disconnect(): Promise<void> {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    if (this.client || this.connecting || this.signals.size === 0) return;
    this.connecting = true;
    const client = new pg.Client({ ...this.pool.options, application_name: 'alertops:log-listener' });
    const lost = () => {
      if (this.client !== client) return;
      this.client = null;
      void client.end().catch(() => undefined);
      // Whatever was announced while the connection was down went unheard.
      for (const signal of this.signals) signal.notified();
      this.reconnectLater();
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', () => {
      for (const signal of this.signals) signal.notified();
    });
    try {
      await client.connect();
      await client.query(`listen ${EVENTS_CHANNEL}`);
      if (this.signals.size === 0) {
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
    if (this.retry || this.signals.size === 0) return;
    this.failures++;
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.listen();
    }, Math.min(5000, 100 * 2 ** Math.min(this.failures, 6)));
    this.retry.unref();
  }
}
