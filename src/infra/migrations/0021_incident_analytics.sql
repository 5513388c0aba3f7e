-- Incident analytics, kept by the incident-analytics projection. Every table is read by (team, time) over a bounded
-- range, so an analytics request costs what the range holds, never what the team's history holds.

-- One row per alert: when it was triggered, first acknowledged and resolved.
create table incident_alerts (
  alert_id uuid primary key,
  team_id uuid not null,
  flow_id uuid not null,
  triggered_at timestamptz not null,
  acknowledged_at timestamptz,
  resolved_at timestamptz
);
create index incident_alerts_by_team on incident_alerts (team_id, triggered_at);

-- One row per notification requested: whom it paged (null for a flow's own address) and whether it reached nobody.
create table incident_pages (
  delivery_id uuid primary key,
  alert_id uuid not null,
  team_id uuid not null,
  flow_id uuid not null,
  user_id uuid,
  requested_at timestamptz not null,
  undelivered boolean not null
);
create index incident_pages_by_team on incident_pages (team_id, requested_at);

-- One row per escalation step fired, with its lag behind its due time.
create table incident_step_lags (
  alert_id uuid not null,
  epoch integer not null,
  loop integer not null,
  step integer not null,
  team_id uuid not null,
  flow_id uuid not null,
  fired_at timestamptz not null,
  lag_ms double precision not null,
  primary key (alert_id, epoch, loop, step)
);
create index incident_step_lags_by_team on incident_step_lags (team_id, fired_at);
