-- A team's lifecycle webhook subscriptions, kept by the subscriptions projection (read-model subscription), for listing.
create table subscriptions (
  id uuid primary key,
  team_id uuid not null,
  url text not null,
  events jsonb not null,
  created_at timestamptz not null
);
create index subscriptions_by_team on subscriptions (team_id, id);

-- The receivers as the subscription-deliveries reactor has seen them, at its own place in the log: an alert event
-- goes to the subscriptions that existed when it was recorded, whatever the read models have applied.
create table subscription_targets (
  subscription_id uuid primary key,
  team_id uuid not null,
  url text not null,
  events text[] not null
);
create index subscription_targets_by_team on subscription_targets (team_id);

-- One row per (subscription, alert event): written by the reactor with its checkpoint, sent by the subscription
-- sender in stream order per (subscription, alert). The row id is the webhook-id, the same on every attempt.
create table subscription_deliveries (
  id uuid primary key,
  team_id uuid not null,
  subscription_id uuid not null,
  alert_id uuid not null,
  stream_version integer not null,
  type text not null,
  url text not null,
  body jsonb not null,
  status text not null check (status in ('pending', 'delivered', 'failed', 'cancelled')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null,
  lease_until timestamptz,
  last_error text,
  created_at timestamptz not null,
  finished_at timestamptz
);
create index subscription_deliveries_lane on subscription_deliveries (subscription_id, alert_id, stream_version) where status = 'pending';
create index subscription_deliveries_finished on subscription_deliveries (finished_at) where status <> 'pending';
