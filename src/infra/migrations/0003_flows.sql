create table flows (
  id uuid primary key,
  team_id uuid not null,
  name text not null,
  -- The flow version (stream revision + 1). Projections only apply an event that moves it forward,
  -- so replaying a batch changes nothing.
  version integer not null,
  repeat integer not null,
  nodes jsonb not null,
  node_count integer generated always as (jsonb_array_length(nodes)) stored,
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create index flows_by_team on flows (team_id, created_at);

create table integration_keys (
  id uuid primary key,
  key_hash text not null unique,
  team_id uuid not null,
  flow_id uuid not null,
  created_at timestamptz not null,
  revoked_at timestamptz
);
create index integration_keys_by_flow on integration_keys (flow_id, created_at);
