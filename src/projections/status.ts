import type { EventStore, LogPosition } from '../eventstore/types.js';
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
export async function projectionStatus(
  { pool, eventStore }: { pool: Pool; eventStore: EventStore },
  names: readonly string[] = [],
): Promise<SubscriptionStatus[]> {
  const { rows } = await pool.query<{ name: string; transaction_id: string; global_position: string; updated_at: Date | null }>(
    `select subscription_name as name, transaction_id::text as transaction_id, global_position, updated_at from subscription_checkpoints
     union all
     select distinct name, '0', 0::bigint, null::timestamptz from unnest($1::text[]) as name
      where name not in (select subscription_name from subscription_checkpoints)
     order by name`,
    [names],
  );
  return Promise.all(
    rows.map(async (row) => {
      const checkpoint = { transactionId: BigInt(row.transaction_id), globalPosition: BigInt(row.global_position) };
      return { name: row.name, checkpoint, lag: await eventStore.countEvents({ after: checkpoint }), updatedAt: row.updated_at };
    }),
  );
}

/**
 * How far each subscription is behind: the events after its checkpoint, and how long the oldest of them has waited
 * (0 when caught up). Two short reads per subscription, whatever the length of the log.
 */
export async function subscriptionLag(
  dependencies: { pool: Pool; eventStore: EventStore },
  names: readonly string[],
  now: Date,
): Promise<{ subscription: string; events: number; seconds: number }[]> {
  const statuses = await projectionStatus(dependencies, names);
  return Promise.all(
    statuses.map(async ({ name, checkpoint, lag }) => {
      if (lag === 0) return { subscription: name, events: 0, seconds: 0 };
      const [oldest] = await dependencies.eventStore.readAll({ after: checkpoint, maxCount: 1 });
      const seconds = oldest ? Math.max(0, (now.getTime() - oldest.recordedAt.getTime()) / 1000) : 0;
      return { subscription: name, events: lag, seconds };
    }),
  );
}
