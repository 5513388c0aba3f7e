-- Operational state, not a read model: sign-in failures per bucket (an account at an address, an address), shared
-- by every API process. A row leaks one failure per interval, so a bucket quiet for a day is back to nothing.
drop table login_failures;
create table login_throttle (
  bucket text primary key,
  failures integer not null,
  last_failure_at timestamptz not null
);
create index login_throttle_by_last_failure on login_throttle (last_failure_at);
