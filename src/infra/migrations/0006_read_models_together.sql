-- The read models are kept by one subscription ('read-models') that applies each batch set-based. Its checkpoint
-- starts at the beginning of the log, so the tables start empty and are replayed once.
truncate alerts, alert_notifications, pending_escalations, pending_deliveries, flows, integration_keys, users,
  refresh_tokens, teams, team_members, invites;
delete from subscription_checkpoints where subscription_name in ('alerts', 'in-flight', 'flows', 'users', 'teams', 'invites');
