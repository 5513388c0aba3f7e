import type { Pool } from '../../src/infra/postgres.js';
import { waitFor } from './wait.js';

/**
 * Rows a refused request may add to a table, as a predicate on the row (`t`), and why. Every table not named here
 * must stay exactly as it was, row for row.
 */
export type AllowedAdditions = Record<string, { where: string; why: string }>;

/**
 * What a request the API refuses may still leave behind. Nothing else in the schema may change:
 * - `login_failures` counts failed sign-ins, but a refused request never reaches the password check, so a new
 *   failure there means a flawed request got through validation;
 * - `team_trigger_windows` (trigger quota) is counted only once a trigger has been authorized and its flow found;
 * - `senders` changes when a notifier process starts or stops, `subscription_checkpoints` when events are appended:
 *   neither happens while one process serves refusals (a live sender's mark of life, which moves every second, is
 *   left out: see IGNORED_COLUMNS);
 * - `events`, `streams` and every read model change only by an accepted command.
 */
export const REFUSALS_MAY_ADD: AllowedAdditions = {
  idempotency_keys: {
    where: 't.status between 400 and 499',
    why: 'a refused request that carried an Idempotency-Key keeps its refusal, so that a retry with the same key gets the same answer',
  },
};

export interface DatabaseState {
  /** Per table of the public schema: its row count and the md5 of all its rows as text, in text order. */
  tables: Record<string, { rows: number; md5: string }>;
  /** Per table with allowed additions: each row as text, and whether the allowance covers it. */
  rows: Record<string, { text: string; allowed: boolean }[]>;
}

const quoted = (table: string) => `public."${table.replace(/"/g, '""')}"`;

/** Columns that change with time alone, not with requests: a live sender marks itself alive every second. */
const IGNORED_COLUMNS: Record<string, string[]> = { senders: ['alive_at'] };

/** A row as text for comparing, without the table's ignored columns. */
const rowText = (table: string) => {
  const ignored = IGNORED_COLUMNS[table];
  return ignored ? `(to_jsonb(t) - array[${ignored.map((column) => `'${column}'`).join(', ')}]::text[])::text` : 't::text';
};

/** Every table of the public schema, summed up. */
export async function databaseState(pool: Pool, allowed: AllowedAdditions = REFUSALS_MAY_ADD): Promise<DatabaseState> {
  const { rows: tables } = await pool.query<{ name: string }>(`select tablename as name from pg_tables where schemaname = 'public' order by tablename`);
  const state: DatabaseState = { tables: {}, rows: {} };
  for (const { name } of tables) {
    const { rows } = await pool.query<{ rows: number; md5: string }>(
      `select count(*)::int as rows, md5(coalesce(string_agg(${rowText(name)}, ',' order by ${rowText(name)}), '')) as md5 from ${quoted(name)} t`,
    );
    state.tables[name] = rows[0]!;
    const allowance = allowed[name];
    if (allowance) {
      const listed = await pool.query<{ text: string; allowed: boolean }>(
        `select t::text as text, coalesce(${allowance.where}, false) as allowed from ${quoted(name)} t order by 1`,
      );
      state.rows[name] = listed.rows;
    }
  }
  return state;
}

/**
 * The database once nothing is moving: every subscription has read to the head of the log and two looks in a row
 * find the same state, so what a test compares is not a projection still catching up.
 */
export async function settledDatabaseState(pool: Pool, allowed: AllowedAdditions = REFUSALS_MAY_ADD, timeoutMs = 20_000): Promise<DatabaseState> {
  let previous: DatabaseState | null = null;
  return waitFor(
    'the database to settle (subscriptions at the head of the log, nothing changing)',
    async () => {
      const { rows } = await pool.query<{ behind: number }>(
        `with head as (select transaction_id, global_position from events order by transaction_id desc, global_position desc limit 1)
         select count(*)::int as behind from subscription_checkpoints c, head
          where (c.transaction_id, c.global_position) <> (head.transaction_id, head.global_position)`,
      );
      const current = await databaseState(pool, allowed);
      const settled = rows[0]!.behind === 0 && previous !== null && unexplainedChanges(previous, current, {}).length === 0;
      previous = current;
      return settled && current;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

/** Every difference between two states that the allowances do not explain, one line each. */
export function unexplainedChanges(before: DatabaseState, after: DatabaseState, allowed: AllowedAdditions = REFUSALS_MAY_ADD): string[] {
  const changes: string[] = [];
  for (const table of new Set([...Object.keys(before.tables), ...Object.keys(after.tables)])) {
    const was = before.tables[table];
    const is = after.tables[table];
    if (!was || !is) {
      changes.push(`${table}: table ${was ? 'dropped' : 'created'}`);
      continue;
    }
    if (was.md5 === is.md5) continue;
    const wasRows = before.rows[table];
    const isRows = after.rows[table];
    if (!allowed[table] || !wasRows || !isRows) {
      changes.push(`${table}: ${was.rows} rows before, ${is.rows} after, contents changed`);
      continue;
    }
    const remaining = new Map<string, number>();
    for (const row of isRows) remaining.set(row.text, (remaining.get(row.text) ?? 0) + 1);
    for (const row of wasRows) {
      const count = remaining.get(row.text) ?? 0;
      if (count === 0) changes.push(`${table}: row changed or removed: ${row.text.slice(0, 300)}`);
      else remaining.set(row.text, count - 1);
    }
    for (const row of isRows) {
      if ((remaining.get(row.text) ?? 0) === 0) continue;
      remaining.set(row.text, remaining.get(row.text)! - 1);
      if (!row.allowed) changes.push(`${table}: row added beyond what a refusal may add (${allowed[table]!.why}): ${row.text.slice(0, 300)}`);
    }
  }
  return changes;
}

/** How many rows each table gained or lost between two states, for the log. */
export function rowCountChanges(before: DatabaseState, after: DatabaseState): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after.tables)
      .map(([table, { rows }]) => [table, rows - (before.tables[table]?.rows ?? 0)] as const)
      .filter(([, delta]) => delta !== 0),
  );
}
