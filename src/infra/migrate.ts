import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Pool } from './postgres.js';

const migrationsDirectory = fileURLToPath(new URL('./migrations/', import.meta.url));

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function knownMigrations(): Migration[] {
  return readdirSync(migrationsDirectory)
    .filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 4)),
      name: file.slice(5, -4),
      sql: readFileSync(migrationsDirectory + file, 'utf8'),
    }));
}

export class SchemaMismatchError extends Error {
  override name = 'SchemaMismatchError';
}

const MIGRATION_LOCK = 0x616c6f70; // 'alop'

/** Applies pending migrations under an advisory lock; refuses a database whose schema is newer than this code. */
export async function migrate(pool: Pool, migrations: Migration[] = knownMigrations()): Promise<{ applied: string[] }> {
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(`create table if not exists schema_migrations (
      version integer primary key, name text not null, applied_at timestamptz not null default now())`);
    const { rows } = await client.query<{ version: number }>('select version from schema_migrations order by version');
    const appliedVersions = new Set(rows.map((row) => row.version));
    assertNotNewer(Math.max(0, ...appliedVersions), migrations);
    const applied: string[] = [];
    for (const migration of migrations) {
      if (appliedVersions.has(migration.version)) continue;
      await client.query('begin');
      try {
        await client.query(migration.sql);
        await client.query('insert into schema_migrations (version, name) values ($1, $2)', [migration.version, migration.name]);
        await client.query('commit');
      } catch (error) {
        await client.query('rollback');
        throw new Error(`migration ${migration.version} (${migration.name}) failed: ${(error as Error).message}`);
      }
      applied.push(`${migration.version}_${migration.name}`);
    }
    return { applied };
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
}

/** For processes that do not migrate: the schema must be exactly what this code expects. */
export async function assertSchemaCurrent(pool: Pool, migrations: Migration[] = knownMigrations()): Promise<void> {
  const { rows } = await pool
    .query<{ version: number | null }>('select max(version) as version from schema_migrations')
    .catch(() => ({ rows: [{ version: null }] }));
  const current = rows[0]?.version ?? 0;
  assertNotNewer(current, migrations);
  const latest = migrations.at(-1)?.version ?? 0;
  if (current < latest) {
    throw new SchemaMismatchError(`database schema is at version ${current}, this code needs ${latest}: run \`alertops migrate\``);
  }
}

function assertNotNewer(current: number, migrations: Migration[]): void {
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new SchemaMismatchError(
      `database schema is at version ${current}, newer than this code knows (${latest}): deploy the newer AlertOps or use another DATABASE_URL`,
    );
  }
}
