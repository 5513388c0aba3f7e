-- Triggers per team per minute, for the per-team trigger quota. Windows older than an hour are pruned as new ones open.
create table team_trigger_windows (
  team_id uuid not null,
  window_start timestamptz not null,
  triggers integer not null,
  primary key (team_id, window_start)
);
