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

-- A notification rule's delivery names whose rule it is: their personal webhook URLs are not shown to the team.
alter table alert_notifications add column recipient_user_id uuid;
