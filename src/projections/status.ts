import type { LogPosition } from '../eventstore/types.js';
import type { Pool } from '../infra/postgres.js';

export interface SubscriptionStatus {
  name: string;
  checkpoint: LogPosition;
  /** Committed events in the log after the checkpoint. */
  lag: number;
  /** When the checkpoint last moved; null for a subscription that has never run. */
  updatedAt: Date | null;
}

/**
 * Every subscription's checkpoint and how many events it is behind the head of the log. `names` adds
 * subscriptions that have never run (checkpoint at the start, the whole log behind).
 */
export async function projectionStatus(pool: Pool, names: readonly string[] = []): Promise<SubscriptionStatus[]> {
  const { rows } = await pool.query<{ name: string; transaction_id: string; global_position: string; lag: string; updated_at: Date | null }>(
    `with subscriptions as (
       select subscription_name as name, transaction_id, global_position, updated_at from subscription_checkpoints
       union all
       select distinct name, '0'::xid8, 0::bigint, null::timestamptz from unnest($1::text[]) as name
        where name not in (select subscription_name from subscription_checkpoints)
     )
     select s.name, s.transaction_id::text as transaction_id, s.global_position, s.updated_at,
            (select count(*) from events e
              where e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
                and (e.transaction_id, e.global_position) > (s.transaction_id, s.global_position)) as lag
       from subscriptions s
      order by s.name`,
    [names],
  );
  return rows.map((row) => ({
    name: row.name,
    checkpoint: { transactionId: BigInt(row.transaction_id), globalPosition: BigInt(row.global_position) },
    lag: Number(row.lag),
    updatedAt: row.updated_at,
  }));
}
