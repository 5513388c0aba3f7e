create table users (
  id uuid primary key,
  email text not null unique,
  name text not null,
  registered_at timestamptz not null
);

-- Which user a refresh token id belongs to, so a presented token finds its user's stream.
create table refresh_tokens (
  token_id uuid primary key,
  user_id uuid not null,
  family_id uuid not null,
  expires_at timestamptz not null
);

create table teams (
  id uuid primary key,
  name text not null,
  webhook_secret text not null,
  created_at timestamptz not null
);

create table team_members (
  team_id uuid not null,
  user_id uuid not null,
  role text not null check (role in ('owner', 'admin', 'member', 'viewer')),
  joined_at timestamptz not null,
  primary key (team_id, user_id)
);
create index team_members_by_user on team_members (user_id);

-- 'expired' is not stored: a pending invite past expires_at is reported as expired when read.
create table invites (
  id uuid primary key,
  team_id uuid not null,
  email text not null,
  role text not null check (role in ('owner', 'admin', 'member', 'viewer')),
  status text not null check (status in ('pending', 'accepted', 'revoked')),
  expires_at timestamptz not null,
  created_at timestamptz not null
);
create index invites_by_team on invites (team_id, created_at desc);

-- Operational state, not a read model: failed sign-ins, shared by every API process for throttling.
create table login_failures (
  id bigint generated always as identity primary key,
  email text not null,
  ip text not null,
  failed_at timestamptz not null
);
create index login_failures_by_email on login_failures (email, failed_at);
create index login_failures_by_ip on login_failures (ip, failed_at);
