create table alerts (
  id uuid primary key,
  team_id uuid not null,
  flow_id uuid not null,
  flow_version integer not null,
  status text not null,
  summary text not null,
  details jsonb,
  severity text not null,
  dedup_key text,
  source text,
  dedup_count integer not null default 0,
  step_count integer not null,
  repeat integer not null,
  epoch integer not null default 0,
  current_loop integer,
  current_step integer,
  next_escalation_at timestamptz,
  exhausted boolean not null default false,
  triggered_at timestamptz not null,
  acknowledged_at timestamptz,
  acknowledged_by text,
  resolved_at timestamptz,
  resolved_by text,
  updated_at timestamptz not null
);
create index alerts_by_team on alerts (team_id, triggered_at desc);
create index alerts_by_team_status on alerts (team_id, status, triggered_at desc);

create table alert_notifications (
  delivery_id uuid primary key,
  alert_id uuid not null,
  team_id uuid,
  loop integer not null,
  step integer not null,
  node_id uuid not null,
  target jsonb not null,
  status text not null,
  attempts integer not null default 0,
  last_error text,
  requested_at timestamptz not null,
  delivered_at timestamptz,
  updated_at timestamptz not null
);
create index alert_notifications_by_alert on alert_notifications (alert_id, requested_at);

-- In-flight escalations: one row per alert with a step waiting for its timer. The sweeper's safety net.
create table pending_escalations (
  alert_id uuid primary key,
  team_id uuid not null,
  epoch integer not null,
  loop integer not null,
  step integer not null,
  due_at timestamptz not null
);
create index pending_escalations_by_due on pending_escalations (due_at);

-- Notifications waiting for an attempt (first, retry, or an attempt whose outcome never came back).
create table pending_deliveries (
  delivery_id uuid primary key,
  alert_id uuid not null,
  due_at timestamptz not null
);
create index pending_deliveries_by_due on pending_deliveries (due_at);

-- The audit trail of a team is read straight from the log.
create index events_by_team on events ((metadata->>'teamId'), global_position);
