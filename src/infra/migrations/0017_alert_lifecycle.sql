-- Acknowledgement timeout, snooze and notes. Existing alerts and flows have none, so the new columns start empty.
alter table flows add column ack_timeout_minutes integer;

alter table alerts add column snoozed_until timestamptz;
alter table alerts add column ack_timeout_at timestamptz;
alter table alerts add column note_count integer not null default 0;

-- Notes of an alert (at most 1,000 each, a few shown with the alert, newest last).
create table alert_notes (
  id uuid primary key,
  alert_id uuid not null,
  team_id uuid not null,
  text text not null,
  author text not null,
  created_at timestamptz not null
);
create index alert_notes_by_alert on alert_notes (alert_id, created_at, id);

-- Acknowledged alerts that will be triggered again (an acknowledgement timeout or the end of a snooze): the sweeper's
-- safety net under their timers, as pending_escalations is for steps.
create table pending_retriggers (
  alert_id uuid primary key,
  team_id uuid not null,
  epoch integer not null,
  due_at timestamptz not null
);
create index pending_retriggers_by_due on pending_retriggers (due_at);
