import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import type { PoolClient } from 'pg';
import { isLostConnection, lostConnectionTries, type Pool, retryOnLostConnections } from './postgres.js';

export function createKysely<Database>(pool: Pool): Kysely<Database> {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: retryingStatements(pool) }) });
}

/**
 * Kysely checks a client out per statement (the read-model queries here never open a transaction): a statement whose
 * connection was terminated under it is sent again on another, as pooled queries are (see createPool).
 */
function retryingStatements(pool: Pool): PostgresPool {
  const tries = lostConnectionTries(pool);
  return {
    async connect() {
      let client: PoolClient | null = await pool.connect();
      return {
        query: (sql: string, parameters: readonly unknown[]) =>
          retryOnLostConnections(tries, async () => {
            client ??= await pool.connect();
            try {
              return await client.query(sql, parameters as unknown[]);
            } catch (error) {
              if (isLostConnection(error)) {
                client.release(error as Error);
                client = null;
              }
              throw error;
            }
          }),
        release: () => client?.release(),
      } as unknown as PostgresPoolClient;
    },
    end: () => pool.end(),
  };
}
