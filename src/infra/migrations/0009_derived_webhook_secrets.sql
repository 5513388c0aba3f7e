-- Webhook signing secrets are derived from a server key and a per-team generation; no secret is stored.
alter table teams drop column webhook_secret;
alter table teams add column webhook_secret_generation integer not null default 0;
alter table teams add column webhook_secret_rotated_at timestamptz;
