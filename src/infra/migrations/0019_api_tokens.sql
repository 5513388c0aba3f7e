-- A team's API tokens (never their secrets), kept by the api-tokens projection (read-model subscription) for listing.
-- Requests are authorized from each token's own stream, so a revoke counts at once whatever this table's lag.
create table api_tokens (
  id uuid primary key,
  team_id uuid not null,
  name text not null,
  role text not null,
  created_by uuid not null,
  created_at timestamptz not null,
  revoked_at timestamptz
);
create index api_tokens_by_team on api_tokens (team_id, created_at desc, id desc);
