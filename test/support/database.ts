import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { migrate } from '../../src/infra/migrate.js';
import { createPool, dropDatabase, ensureDatabaseExists, type Pool } from '../../src/infra/postgres.js';

export interface TestDatabase {
  url: string;
  pool: Pool;
  drop(): Promise<void>;
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** A freshly migrated database of its own, dropped by `drop()`. */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const url = new URL(inject('databaseUrl'));
  url.pathname = `/${uniqueName('alertops_test')}`;
  const databaseUrl = url.toString();
  await ensureDatabaseExists(databaseUrl);
  const pool = createPool(databaseUrl, { max: 10, applicationName: 'alertops-test' });
  if (options.migrate !== false) await migrate(pool);
  return {
    url: databaseUrl,
    pool,
    async drop() {
      await pool.end();
      await dropDatabase(databaseUrl);
    },
  };
}
