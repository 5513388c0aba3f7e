-- Schedules and their overrides, kept by the schedules projection (read-model subscription).
create table schedules (
  id uuid primary key,
  team_id uuid not null,
  name text not null,
  time_zone text not null,
  rotations jsonb not null,
  version integer not null,
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create index schedules_by_team on schedules (team_id, name);

create table schedule_overrides (
  id uuid primary key,
  schedule_id uuid not null,
  team_id uuid not null,
  user_id uuid not null,
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  created_at timestamptz not null
);
create index schedule_overrides_by_schedule on schedule_overrides (schedule_id, ends_at);
