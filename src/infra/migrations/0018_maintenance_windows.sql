-- Maintenance windows not deleted, kept by the maintenance-windows projection (read-model subscription). A trigger
-- asks for the window of its team open at that instant: one index range scan of the team's windows not ended.
create table maintenance_windows (
  id uuid primary key,
  team_id uuid not null,
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  reason text not null,
  -- null: every flow of the team; otherwise a jsonb array of flow ids.
  flow_ids jsonb,
  created_at timestamptz not null
);
create index maintenance_windows_by_team_end on maintenance_windows (team_id, ends_at);

-- An alert held back by a window, shown as suppressed until its escalation starts.
alter table alerts add column suppressed_by uuid;
alter table alerts add column suppressed_until timestamptz;

-- The pages that reached nobody, newest first per team (GET /teams/:teamId/notifications).
create index alert_notifications_undelivered on alert_notifications (team_id, updated_at desc, delivery_id desc)
  where status in ('retry_scheduled', 'abandoned', 'unknown');

-- The maintenance reactor's own record of which open alerts each window holds back, kept in log order with its
-- checkpoint: a deleted window wakes exactly these, whatever the read models have applied yet.
create table maintenance_suppressed_alerts (
  alert_id uuid primary key,
  window_id uuid not null
);
create index maintenance_suppressed_alerts_by_window on maintenance_suppressed_alerts (window_id);
