-- Open sessions, one row each; a row goes when its session ends. `version` is the session stream's revision the
-- row was projected from: a refresh reads the stream from there.
create table sessions (
  id uuid primary key,
  user_id uuid not null,
  started_at timestamptz not null,
  expires_at timestamptz not null,
  absolute_expires_at timestamptz not null,
  generation integer not null,
  version integer not null
);
create index sessions_by_user on sessions (user_id, expires_at);

-- Every refresh token of an open session, spent ones included (a spent token coming back is how theft shows).
create table session_tokens (
  token_id uuid primary key,
  session_id uuid not null,
  generation integer not null,
  token_hash text not null
);

-- Sessions started and access tokens issued before this instant are refused.
create table session_cutoffs (
  user_id uuid primary key,
  sessions_valid_after timestamptz not null
);
