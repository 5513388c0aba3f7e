-- Every process that sends notifications registers here and holds an advisory lock for as long as it lives.
-- A registered sender whose lock is free has stopped: its started attempts are resolved at once.
create table senders (
  sender_id text primary key,
  registered_at timestamptz not null default now(),
  seen_stopped_at timestamptz
);

alter table pending_deliveries add column sender text;
create index pending_deliveries_by_sender on pending_deliveries (sender) where sender is not null;
