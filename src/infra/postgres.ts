import pg from 'pg';

// bigint columns (positions, versions) come back as strings; xid8 too. Keep them exact.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => value);

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export function createPool(databaseUrl: string, options: { max?: number; applicationName?: string } = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'alertops',
    connectionTimeoutMillis: 10_000,
  });
  // An idle client losing its connection (database restart, pg_terminate_backend) must not crash the process.
  pool.on('error', () => undefined);
  // Neither may a checked-out client between queries: the pool listens only to idle clients, and a new connection
  // handed out on ReadyForQuery can receive the termination in the same packet, before its user's first query.
  // Its next query fails instead, and the pool discards it on release.
  pool.on('connect', (client) => client.on('error', () => undefined));
  retryOnLostConnection(pool);
  return pool;
}

/** SQLSTATEs of a backend that was shut down or terminated under its client (pg_terminate_backend, a restart). */
const LOST_CONNECTION_CODES = new Set(['57P01', '57P02', '57P03', '08000', '08003', '08006']);

export function isLostConnection(error: unknown): boolean {
  const { code, message } = error as { code?: string; message?: string };
  if (code && LOST_CONNECTION_CODES.has(code)) return true;
  if (code === 'ECONNRESET' || code === 'EPIPE') return true;
  return typeof message === 'string' && /Connection terminated|Client has encountered a connection error/.test(message);
}

/**
 * Runs `statement` again while it fails because its connection was terminated under it, up to `tries` times in all.
 * A termination (a database restart, pg_terminate_backend of every backend) kills every idle connection of a pool at
 * once, and the pool learns that each is dead only when it hands it out; so a statement may meet several dead
 * connections before a fresh one. A terminated backend's transaction was rolled back: the statement never ran or
 * left nothing.
 */
export async function retryOnLostConnections<T>(tries: number, statement: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await statement();
    } catch (error) {
      if (!isLostConnection(error) || attempt >= tries) throw error;
    }
  }
}

/** Enough tries to get past every connection a pool can hold, dead at once, to a fresh one. */
export function lostConnectionTries(pool: pg.Pool): number {
  return (pool.options.max ?? 10) + 1;
}

/** Pooled queries are sent again when their connection was terminated under them (see retryOnLostConnections). */
function retryOnLostConnection(pool: pg.Pool): void {
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
  const tries = lostConnectionTries(pool);
  (pool as { query: unknown }).query = (...args: unknown[]) => {
    if (typeof args.at(-1) === 'function') return query(...args);
    return retryOnLostConnections(tries, () => query(...args));
  };
}

export async function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Creates the database named in the URL when it does not exist yet, connecting to the `postgres` maintenance database. */
export async function ensureDatabaseExists(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) throw new Error(`DATABASE_URL names no database: ${redactUrl(databaseUrl)}`);
  const maintenance = new URL(databaseUrl);
  maintenance.pathname = '/postgres';
  const client = new pg.Client({ connectionString: maintenance.toString(), connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) {
      await client.query(`create database ${quoteIdentifier(name)}`).catch((error: unknown) => {
        if ((error as { code?: string }).code !== '42P04') throw error;
      });
    }
  } finally {
    await client.end();
  }
}

export async function dropDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`drop database if exists ${quoteIdentifier(name)} with (force)`);
  } finally {
    await client.end();
  }
}

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable url>';
  }
}
