create table streams (
  stream_id text primary key,
  version bigint not null,
  last_hash text
);

create table events (
  global_position bigint generated always as identity primary key,
  transaction_id xid8 not null default pg_current_xact_id(),
  stream_id text not null references streams (stream_id),
  stream_version bigint not null,
  event_id uuid not null unique,
  event_type text not null,
  schema_version integer not null,
  data jsonb not null,
  metadata jsonb not null,
  recorded_at timestamptz not null default clock_timestamp(),
  prev_hash text,
  hash text not null,
  unique (stream_id, stream_version)
);

create index events_transaction_order on events (transaction_id, global_position);

-- The hash of one event, chained to the previous event of its stream. Append and verification share it,
-- so a row edited after the fact no longer matches its own hash or its successor's prev_hash.
create function event_hash(
  p_prev_hash text, p_stream_id text, p_stream_version bigint, p_event_id uuid, p_event_type text,
  p_schema_version integer, p_data jsonb, p_metadata jsonb, p_recorded_at timestamptz
) returns text language sql immutable as $$
  select encode(sha256(convert_to(concat_ws(E'\x1f',
    coalesce(p_prev_hash, ''), p_stream_id, p_stream_version::text, p_event_id::text, p_event_type,
    p_schema_version::text, p_data::text, p_metadata::text,
    to_char(p_recorded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
  ), 'UTF8')), 'hex')
$$;

-- Appends a batch to one stream in one round trip. p_expected is 'any', 'no_stream', 'stream_exists'
-- or a 0-based revision. A mismatch raises SQLSTATE AO409 with the actual revision in DETAIL.
create function append_events(p_stream_id text, p_expected text, p_events jsonb)
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
  perform pg_notify('alertops_events', '');
  return query select v_version, pg_current_xact_id(), v_position;
end
$$;

create table subscription_checkpoints (
  subscription_name text primary key,
  transaction_id xid8 not null default '0',
  global_position bigint not null default 0,
  updated_at timestamptz not null default now()
);

create table idempotency_keys (
  scope text not null,
  idempotency_key text not null,
  request_hash text not null,
  status integer not null,
  headers jsonb not null,
  body jsonb,
  created_at timestamptz not null default now(),
  primary key (scope, idempotency_key)
);
