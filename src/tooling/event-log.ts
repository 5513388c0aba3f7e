import { toRecordedEvent } from '../eventstore/postgres.js';
import { type LogPosition, type RecordedEvent, START_OF_LOG } from '../eventstore/types.js';
import type { Pool } from '../infra/postgres.js';

const VISIBLE = 'transaction_id < pg_snapshot_xmin(pg_current_snapshot())';

/** The last `count` committed events of the global log, oldest first. */
export async function recentEvents(pool: Pool, count: number): Promise<RecordedEvent[]> {
  const { rows } = await pool.query(
    `select * from (
       select stream_id, stream_version, event_id, event_type, schema_version, data, metadata, recorded_at, prev_hash, hash,
              transaction_id::text as transaction_id, global_position, transaction_id as tx
         from events where ${VISIBLE} order by transaction_id desc, global_position desc limit $1) recent
      order by tx, global_position`,
    [count],
  );
  return rows.map(toRecordedEvent);
}

export async function headPosition(pool: Pool): Promise<LogPosition> {
  const [last] = await recentEvents(pool, 1);
  return last?.position ?? START_OF_LOG;
}

export async function countEvents(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ count: string }>(`select count(*) from events where ${VISIBLE}`);
  return Number(rows[0]!.count);
}
