-- Appends no longer notify inside their transaction: a transaction that notified takes PostgreSQL's notify
-- queue lock at commit, which serialised concurrent writers. The store announces appends after they commit.
-- Appends a batch to one stream in one round trip. p_expected is 'any', 'no_stream', 'stream_exists'
-- or a 0-based revision. A mismatch raises SQLSTATE AO409 with the actual revision in DETAIL.
create or replace function append_events(p_stream_id text, p_expected text, p_events jsonb)
returns table (stream_version bigint, transaction_id xid8, global_position bigint)
language plpgsql as $$
declare
  v_version bigint;
  v_hash text;
  v_event jsonb;
  v_recorded_at timestamptz;
  v_prev_hash text;
  v_position bigint;
begin
  insert into streams (stream_id, version) values (p_stream_id, -1) on conflict do nothing;
  select s.version, s.last_hash into v_version, v_hash from streams s where s.stream_id = p_stream_id for update;

  if (p_expected = 'no_stream' and v_version <> -1)
     or (p_expected = 'stream_exists' and v_version = -1)
     or (p_expected not in ('any', 'no_stream', 'stream_exists') and v_version <> p_expected::bigint) then
    raise exception 'wrong expected version for stream %', p_stream_id
      using errcode = 'AO409', detail = v_version::text;
  end if;

  for v_event in select value from jsonb_array_elements(p_events) loop
    v_version := v_version + 1;
    v_recorded_at := date_trunc('milliseconds', clock_timestamp());
    v_prev_hash := v_hash;
    v_hash := event_hash(v_prev_hash, p_stream_id, v_version, (v_event->>'eventId')::uuid, v_event->>'eventType',
      (v_event->>'schemaVersion')::integer, v_event->'data', v_event->'metadata', v_recorded_at);
    insert into events (stream_id, stream_version, event_id, event_type, schema_version, data, metadata, recorded_at, prev_hash, hash)
    values (p_stream_id, v_version, (v_event->>'eventId')::uuid, v_event->>'eventType', (v_event->>'schemaVersion')::integer,
      v_event->'data', v_event->'metadata', v_recorded_at, v_prev_hash, v_hash)
    returning events.global_position into v_position;
  end loop;

  update streams set version = v_version, last_hash = v_hash where streams.stream_id = p_stream_id;
  return query select v_version, pg_current_xact_id(), v_position;
end
$$;
