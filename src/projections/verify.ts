import type { EventCatalog } from '../eventstore/catalog.js';
import { type EventStore, type LogPosition, START_OF_LOG } from '../eventstore/types.js';
import { type Pool, type PoolClient, quoteIdentifier } from '../infra/postgres.js';
import type { Projection } from './projection.js';
import { READ_MODELS, readModelSubscription } from './read-model-subscription.js';
import { applyPage, readModelTransaction } from './runner.js';

export interface TableDifference {
  table: string;
  /** Rows a fresh replay produces that the live read model lacks (or holds with other values). */
  missing: number;
  /** Rows the live read model holds that a fresh replay does not produce. */
  unexpected: number;
  examples: { missing: unknown[]; unexpected: unknown[] };
}

export interface ReadModelReport {
  projection: string;
  /** The checkpoint the live read model had reached and the replay stopped at; null if it never ran. */
  checkpoint: LogPosition | null;
  replayedEvents: number;
  differences: TableDifference[];
}

const EXAMPLES = 3;

/**
 * Replays the log up to the projection's checkpoint into temporary copies of its tables and compares them
 * row by row with the live read model. Temporary tables shadow the real ones for unqualified names in this
 * session only, so the projection's own statements run unchanged and nobody else sees the replay. One
 * repeatable-read snapshot: the runner commits rows and checkpoint together, so the pair is consistent and
 * the live runner keeps running meanwhile. A statement that reads another projection's tables sees that
 * projection's live rows, as it would on a rebuild.
 */
export async function verifyReadModel(
  { pool, eventStore, catalog }: { pool: Pool; eventStore: EventStore; catalog: EventCatalog },
  projection: Projection,
  options: { batchSize?: number; subscription?: string } = {},
): Promise<ReadModelReport> {
  const client = await pool.connect();
  try {
    await client.query('begin isolation level repeatable read');
    const checkpoint = await readCheckpoint(client, options.subscription ?? READ_MODELS);
    const liveTables = new Map<string, string>();
    for (const table of Object.keys(projection.keys)) {
      const { rows } = await client.query<{ qualified: string | null }>(
        `select format('%I.%I', n.nspname, c.relname) as qualified
           from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid = to_regclass($1)`,
        [quoteIdentifier(table)],
      );
      const qualified = rows[0]?.qualified;
      if (!qualified) throw new Error(`table ${table} of projection ${projection.name} does not exist`);
      liveTables.set(table, qualified);
    }
    for (const [table, qualified] of liveTables) {
      await client.query(`create temporary table ${quoteIdentifier(table)} (like ${qualified} including all) on commit drop`);
    }

    const replayedEvents = checkpoint ? await replay(client, eventStore, catalog, projection, checkpoint, options.batchSize ?? 1000) : 0;

    const differences: TableDifference[] = [];
    for (const [table, qualified] of liveTables) {
      const replayed = `pg_temp.${quoteIdentifier(table)}`;
      const { rows } = await client.query<{ missing: string; unexpected: string; missing_examples: unknown[]; unexpected_examples: unknown[] }>(
        `with replayed as (select to_jsonb(r) as row from ${replayed} r),
              live as (select to_jsonb(l) as row from ${qualified} l),
              missing as (select row from replayed except all select row from live),
              unexpected as (select row from live except all select row from replayed)
         select (select count(*) from missing) as missing,
                (select count(*) from unexpected) as unexpected,
                coalesce((select jsonb_agg(row) from (select row from missing limit $1) sample), '[]') as missing_examples,
                coalesce((select jsonb_agg(row) from (select row from unexpected limit $1) sample), '[]') as unexpected_examples`,
        [EXAMPLES],
      );
      const row = rows[0]!;
      if (Number(row.missing) > 0 || Number(row.unexpected) > 0) {
        differences.push({
          table,
          missing: Number(row.missing),
          unexpected: Number(row.unexpected),
          examples: { missing: row.missing_examples, unexpected: row.unexpected_examples },
        });
      }
    }
    return { projection: projection.name, checkpoint, replayedEvents, differences };
  } finally {
    // Nothing of the replay may survive: the temporary tables go with the transaction.
    await client.query('rollback').catch(() => undefined);
    client.release();
  }
}

async function readCheckpoint(client: PoolClient, name: string): Promise<LogPosition | null> {
  const { rows } = await client.query<{ transaction_id: string; global_position: string }>(
    'select transaction_id::text as transaction_id, global_position from subscription_checkpoints where subscription_name = $1',
    [name],
  );
  const row = rows[0];
  return row ? { transactionId: BigInt(row.transaction_id), globalPosition: BigInt(row.global_position) } : null;
}

async function replay(
  client: PoolClient,
  eventStore: EventStore,
  catalog: EventCatalog,
  projection: Projection,
  until: LogPosition,
  batchSize: number,
): Promise<number> {
  const subscription = readModelSubscription([projection]);
  let after = START_OF_LOG;
  let replayed = 0;
  for (;;) {
    const recorded = await eventStore.readAll({ after, maxCount: batchSize, until });
    if (recorded.length === 0) return replayed;
    after = recorded.at(-1)!.position;
    replayed += await applyPage(readModelTransaction(client), subscription, recorded, catalog);
  }
}
