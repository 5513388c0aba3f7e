import type { Pool } from '../infra/postgres.js';
import type { HashChainReport } from './types.js';

/**
 * Recomputes every event's hash with the same SQL function the append used and follows each stream's
 * chain, so an edited row (its own hash no longer matches), a deleted or reordered event (the next
 * prev_hash no longer links) and a truncated stream (the stream head no longer matches) all show up.
 * One snapshot, so appends running meanwhile cannot look like damage.
 */
export async function verifyHashChains(pool: Pool, options: { maxBroken?: number } = {}): Promise<HashChainReport> {
  const client = await pool.connect();
  try {
    await client.query('begin isolation level repeatable read read only');
    const counts = await client.query<{ streams: string; events: string }>(
      `select (select count(*) from streams) as streams, (select count(*) from events) as events`,
    );
    const broken = await client.query<{ stream_id: string; stream_version: string; reason: string }>(
      `with chained as (
         select stream_id, stream_version, prev_hash, hash,
                lag(stream_version) over stream_order as previous_version,
                lag(hash) over stream_order as previous_hash,
                event_hash(prev_hash, stream_id, stream_version, event_id, event_type, schema_version, data, metadata, recorded_at)
                  as recomputed_hash
           from events
         window stream_order as (partition by stream_id order by stream_version)
       ),
       event_damage as (
         select stream_id, stream_version,
                case
                  when previous_version is null and stream_version <> 0
                    then format('events 0..%s are missing', stream_version - 1)
                  when previous_version is not null and previous_version <> stream_version - 1
                    then format('events %s..%s are missing', previous_version + 1, stream_version - 1)
                  when previous_version is null and prev_hash is not null
                    then 'the first event of the stream has a prev_hash'
                  when previous_version is not null and prev_hash is distinct from previous_hash
                    then 'prev_hash does not match the hash of the previous event'
                  when hash is distinct from recomputed_hash
                    then 'hash does not match the event''s content'
                end as reason
           from chained
       ),
       stream_damage as (
         select s.stream_id, s.version as stream_version,
                case
                  when last_event.stream_version is null and s.version >= 0
                    then 'the stream has no events'
                  when last_event.stream_version is distinct from s.version
                    then format('the stream head is at %s but its last event is %s', s.version, last_event.stream_version)
                  when last_event.hash is distinct from s.last_hash
                    then 'the stream head hash does not match its last event'
                end as reason
           from streams s
           left join lateral (
             select e.stream_version, e.hash from events e where e.stream_id = s.stream_id order by e.stream_version desc limit 1
           ) last_event on true
       )
       select stream_id, stream_version, reason from (
         select * from event_damage union all select * from stream_damage
       ) damage
       where reason is not null
       order by stream_id, stream_version
       limit $1`,
      [options.maxBroken ?? 1000],
    );
    await client.query('commit');
    return {
      streams: Number(counts.rows[0]!.streams),
      events: Number(counts.rows[0]!.events),
      broken: broken.rows.map((row) => ({ streamId: row.stream_id, streamVersion: Number(row.stream_version), reason: row.reason })),
    };
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
