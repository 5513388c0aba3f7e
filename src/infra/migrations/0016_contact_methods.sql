-- People's contact methods and notification rules, kept by the contact-methods projection (read-model subscription).
create table contact_methods (
  id uuid primary key,
  user_id uuid not null,
  type text not null,
  address text,
  url text,
  format text,
  verified boolean not null,
  created_at timestamptz not null
);
create index contact_methods_by_user on contact_methods (user_id, created_at);

create table notification_rules (
  user_id uuid primary key,
  rules jsonb not null,
  updated_at timestamptz not null
);
