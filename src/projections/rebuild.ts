import type { EventCatalog } from '../eventstore/catalog.js';
import { comparePositions, type EventStore, type LogPosition, START_OF_LOG } from '../eventstore/types.js';
import { type Pool, type PoolClient, quoteIdentifier, withTransaction } from '../infra/postgres.js';
import type { Projection } from './projection.js';
import { READ_MODELS, readModelSubscription } from './read-model-subscription.js';
import { applyPage, readModelTransaction, type Subscription } from './runner.js';

export interface RebuildProgress {
  /** Log events replayed so far, and how many stood between the start of the log and the live checkpoint. */
  replayed: number;
  total: number;
}

export interface RebuildDependencies {
  pool: Pool;
  eventStore: EventStore;
  catalog: EventCatalog;
}

const besideLive = (table: string) => `${table}__rebuild`;

/**
 * Rebuilds read models without downtime: replays the log into new tables beside the live ones while the service
 * keeps answering from the live tables, never going past the live checkpoint; then, in one transaction that locks
 * the live tables and the checkpoint, replays the last few events and swaps the new tables in. Readers see the
 * old read model or the new one, never an empty or half-built table, and the live subscription carries on from
 * the same checkpoint.
 */
export async function rebuildReadModels(
  deps: RebuildDependencies,
  projections: readonly Projection[],
  options: { batchSize?: number; onProgress?: (progress: RebuildProgress) => void; subscription?: string } = {},
): Promise<RebuildProgress> {
  const live = options.subscription ?? READ_MODELS;
  const tables = projections.flatMap((projection) => Object.keys(projection.keys));
  const batchSize = options.batchSize ?? 5000;
  const subscription = readModelSubscription(projections, { name: 'rebuild', tableName: besideLive });
  // Tables beside the live ones start with their primary keys alone (the batches' upserts need them); the other
  // indexes and constraints are built once the bulk of the log is in, which is far cheaper than keeping them up.
  const layouts = await withTransaction(deps.pool, async (client) => {
    const described: TableLayout[] = [];
    for (const [index, table] of tables.entries()) {
      const layout = await tableLayout(client, table, `rebuild_${index}`);
      await client.query(`drop table if exists ${quoteIdentifier(besideLive(table))}`);
      await client.query(`create table ${quoteIdentifier(besideLive(table))} (like ${quoteIdentifier(table)} including all excluding indexes)`);
      if (layout.primaryKey) await client.query(layout.primaryKey.build);
      described.push(layout);
    }
    return described;
  });
  try {
    const total = await deps.eventStore.countEvents({ after: START_OF_LOG, until: await liveCheckpoint(deps.pool, live) });
    const progress: RebuildProgress = { replayed: 0, total };
    let position = START_OF_LOG;
    let until = await liveCheckpoint(deps.pool, live);
    // The next page is read while the current one is applied: the log's reader and the tables' writer overlap.
    let page = deps.eventStore.readAll({ after: position, maxCount: batchSize, until });
    for (;;) {
      const recorded = await page;
      if (recorded.length === 0) break;
      const after = recorded.at(-1)!.position;
      if (recorded.length === batchSize) page = deps.eventStore.readAll({ after, maxCount: batchSize, until });
      page.catch(() => undefined);
      await withTransaction(deps.pool, (client) => applyPage(readModelTransaction(client), subscription, recorded, deps.catalog));
      position = after;
      progress.replayed += recorded.length;
      options.onProgress?.(progress);
      if (recorded.length < batchSize) {
        // Caught up with the checkpoint as it was; carry on while the live subscription has moved on.
        const moved = await liveCheckpoint(deps.pool, live);
        if (comparePositions(moved, until) === 0) break;
        until = moved;
        page = deps.eventStore.readAll({ after: position, maxCount: batchSize, until });
      }
    }
    for (const layout of layouts) {
      for (const { build } of layout.later) await deps.pool.query(build);
    }
    await withTransaction(deps.pool, async (client) => {
      await client.query(`lock table ${tables.map(quoteIdentifier).join(', ')} in access exclusive mode`);
      const until = await liveCheckpoint(client, live, { lock: true });
      for (;;) {
        const applied = await replayInto(client, deps, subscription, position, until, batchSize);
        position = applied.position;
        progress.replayed += applied.events;
        if (applied.events === 0) break;
      }
      for (const { table, primaryKey, later } of layouts) {
        await client.query(`drop table ${quoteIdentifier(table)}`);
        await client.query(`alter table ${quoteIdentifier(besideLive(table))} rename to ${quoteIdentifier(table)}`);
        for (const { rename } of [...(primaryKey ? [primaryKey] : []), ...later]) await client.query(rename);
      }
    });
    options.onProgress?.(progress);
    return progress;
  } catch (error) {
    await withTransaction(deps.pool, async (client) => {
      for (const table of tables) await client.query(`drop table if exists ${quoteIdentifier(besideLive(table))}`);
    }).catch(() => undefined);
    throw error;
  }
}

/** A statement that builds an index or constraint on the table beside a live one under a name of its own, and one that gives it the live one's name once the live table is gone. */
interface IndexStatements {
  build: string;
  rename: string;
}

/** What a live table has beyond its columns: its primary key, and every other index and unique or exclusion constraint. */
interface TableLayout {
  table: string;
  primaryKey: IndexStatements | null;
  later: IndexStatements[];
}

async function tableLayout(client: PoolClient, table: string, namePrefix: string): Promise<TableLayout> {
  const target = quoteIdentifier(besideLive(table));
  const { rows: constraints } = await client.query<{ name: string; kind: string; definition: string }>(
    `select c.conname as name, c.contype as kind, pg_get_constraintdef(c.oid) as definition
       from pg_constraint c
      where c.conrelid = to_regclass($1) and c.contype in ('p', 'u', 'x')
      order by c.conname`,
    [quoteIdentifier(table)],
  );
  const { rows: indexes } = await client.query<{ name: string; definition: string }>(
    `select c.relname as name, pg_get_indexdef(i.indexrelid) as definition
       from pg_index i join pg_class c on c.oid = i.indexrelid
      where i.indrelid = to_regclass($1) and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)
      order by c.relname`,
    [quoteIdentifier(table)],
  );
  const later: IndexStatements[] = [];
  let primaryKey: IndexStatements | null = null;
  let named = 0;
  for (const constraint of constraints) {
    const temporary = quoteIdentifier(`${namePrefix}_${named++}`);
    const statements = {
      build: `alter table ${target} add constraint ${temporary} ${constraint.definition}`,
      rename: `alter table ${quoteIdentifier(table)} rename constraint ${temporary} to ${quoteIdentifier(constraint.name)}`,
    };
    if (constraint.kind === 'p') primaryKey = statements;
    else later.push(statements);
  }
  for (const index of indexes) {
    const temporary = quoteIdentifier(`${namePrefix}_${named++}`);
    const shape = /^CREATE (UNIQUE )?INDEX \S+ ON (?:ONLY )?\S+ (USING .*)$/s.exec(index.definition);
    if (!shape) throw new Error(`cannot rebuild index ${index.name} of ${table}: ${index.definition}`);
    later.push({
      build: `create ${shape[1] ?? ''}index ${temporary} on ${target} ${shape[2]}`,
      rename: `alter index ${temporary} rename to ${quoteIdentifier(index.name)}`,
    });
  }
  return { table, primaryKey, later };
}

/** Applies the log after `after`, up to and including `until`, in one batch; every such event has committed. */
async function replayInto(
  client: PoolClient,
  deps: RebuildDependencies,
  subscription: Subscription,
  after: LogPosition,
  until: LogPosition,
  batchSize: number,
): Promise<{ events: number; position: LogPosition }> {
  if (comparePositions(after, until) >= 0) return { events: 0, position: after };
  const recorded = await deps.eventStore.readAll({ after, maxCount: batchSize, until });
  if (recorded.length === 0) return { events: 0, position: after };
  await applyPage(readModelTransaction(client), subscription, recorded, deps.catalog);
  return { events: recorded.length, position: recorded.at(-1)!.position };
}

async function liveCheckpoint(db: Pool | PoolClient, subscription: string, options: { lock?: boolean } = {}): Promise<LogPosition> {
  const { rows } = await db.query<{ transaction_id: string; global_position: string }>(
    `select transaction_id::text as transaction_id, global_position from subscription_checkpoints
      where subscription_name = $1 ${options.lock ? 'for update' : ''}`,
    [subscription],
  );
  const row = rows[0];
  return row ? { transactionId: BigInt(row.transaction_id), globalPosition: BigInt(row.global_position) } : START_OF_LOG;
}
