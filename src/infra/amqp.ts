import amqp from 'amqplib';
import type { Logger } from './logger.js';
import { redactUrl } from './postgres.js';

export type AmqpConnection = amqp.ChannelModel;

/** How long opening a connection (TCP and AMQP handshake) may take, like PostgreSQL's connection timeout. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** How long a set-up whose connection the broker closed (a broker still booting) may wait for the reconnect. */
const SETUP_RECONNECT_WAIT_MS = 20_000;

/** The connection itself went away (closed by the broker or the network), as opposed to a channel refusal. */
function isConnectionClosed(error: unknown): boolean {
  return /^Connection closed/.test((error as Error).message ?? '') || /Connection (ended|terminated)|ECONNRESET|EPIPE/.test(String(error));
}

/** Work to (re)do on every fresh connection: declare topology, open channels, start consumers. */
export type ConnectionSetup = (connection: AmqpConnection) => Promise<void>;

/**
 * One AMQP connection that heals itself: after a broker restart or a dropped socket it reconnects with
 * backoff and re-runs every registered setup, so topology is re-declared and consumers resume.
 * The first connection must succeed; a broker that is not there at start-up is a fatal misconfiguration.
 */
export class BrokerConnection {
  private connection: AmqpConnection | null = null;
  private readonly setups: { name: string; run: ConnectionSetup }[] = [];
  private closing = false;
  private reconnecting: Promise<void> | null = null;

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
  ) {}

  get connected(): boolean {
    return this.connection !== null;
  }

  current(): AmqpConnection {
    if (!this.connection) throw new Error('the message broker is not connected');
    return this.connection;
  }

  async start(): Promise<void> {
    try {
      await this.open();
    } catch (error) {
      throw new Error(`cannot connect to RabbitMQ at ${redactUrl(this.url)}: ${(error as Error).message}`);
    }
  }

  /**
   * Runs `setup` now (when connected) and again after every reconnect. A broker still booting may close the
   * connection under the setup (INTERNAL_ERROR while its queue coordinator starts): the reconnect runs every setup
   * again, this one included, so that is waited for, within a bound. A setup refused on an open connection is the
   * broker's answer and fails at once.
   */
  async register(name: string, run: ConnectionSetup): Promise<void> {
    this.setups.push({ name, run });
    const connection = this.connection;
    if (!connection) return;
    try {
      await run(connection);
    } catch (error) {
      if (!isConnectionClosed(error)) throw error;
      this.logger.warn({ err: error, setup: name }, 'the broker closed the connection during set-up; waiting for the reconnect to set up again');
      const deadline = Date.now() + SETUP_RECONNECT_WAIT_MS;
      while (Date.now() < deadline) {
        if (this.connection !== null && this.connection !== connection && this.reconnecting === null) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    const connection = this.connection;
    this.connection = null;
    await connection?.close().catch(() => undefined);
  }

  private async open(): Promise<void> {
    // Without a timeout, a port that accepts the socket but never speaks AMQP would hang start-up (and every
    // reconnect) forever instead of failing.
    const connection = await amqp.connect(this.url, { clientProperties: { connection_name: 'alertops' }, timeout: CONNECT_TIMEOUT_MS });
    connection.on('error', (error: Error) => this.logger.warn({ err: error }, 'broker connection error'));
    connection.on('close', () => {
      if (this.connection === connection) this.connection = null;
      if (!this.closing) this.scheduleReconnect();
    });
    this.connection = connection;
    for (const setup of this.setups) await setup.run(connection);
  }

  private scheduleReconnect(): void {
    if (this.reconnecting) return;
    this.reconnecting = (async () => {
      for (let attempt = 1; !this.closing; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 100 * 2 ** Math.min(attempt, 6))));
        if (this.closing) break;
        try {
          await this.open();
          this.logger.info({ attempt }, 'reconnected to the broker');
          break;
        } catch (error) {
          const stale = this.connection;
          this.connection = null;
          await stale?.close().catch(() => undefined);
          this.logger.warn({ err: error, attempt }, 'broker reconnect failed');
        }
      }
      this.reconnecting = null;
    })();
  }
}
