-- A sender's last sign of life, written through its lock's own connection: a sender whose lock is free counts as
-- stopped only once this is older than a grace, so a dropped connection it is taking again does not make it look dead.
alter table senders add column alive_at timestamptz not null default now();
