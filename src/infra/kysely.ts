import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import { isLostConnection, type Pool } from './postgres.js';

export function createKysely<Database>(pool: Pool): Kysely<Database> {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: retryingStatements(pool) }) });
}

/**
 * Kysely checks a client out per statement (the read-model queries here never open a transaction): a statement whose
 * connection was terminated under it is sent once more on a fresh one, as pooled queries are (see createPool).
 */
function retryingStatements(pool: Pool): PostgresPool {
  return {
    async connect() {
      let client = await pool.connect();
      return {
        async query(sql: string, parameters: readonly unknown[]) {
          try {
            return await client.query(sql, parameters as unknown[]);
          } catch (error) {
            if (!isLostConnection(error)) throw error;
            client.release(error as Error);
            client = await pool.connect();
            return client.query(sql, parameters as unknown[]);
          }
        },
        release: () => client.release(),
      } as unknown as PostgresPoolClient;
    },
    end: () => pool.end(),
  };
}
