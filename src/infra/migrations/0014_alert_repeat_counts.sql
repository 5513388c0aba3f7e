-- Repeats of an alert beyond the few its stream records one by one: counted here, summarized into the stream at
-- most once per summary interval, and deleted once the stream holds the count. One row per alert still repeating.
create table alert_repeat_counts (
  alert_id uuid primary key,
  team_id uuid not null,
  repeats integer not null,
  recorded integer not null,
  summary text not null,
  severity text not null,
  last_at timestamptz not null,
  summarized_at timestamptz not null
);
create index alert_repeat_counts_by_summary on alert_repeat_counts (summarized_at);
