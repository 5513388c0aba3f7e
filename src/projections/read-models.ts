/** Row shapes of every read model, as Kysely sees them. Only projections write these tables. */

import type { ColumnType, Generated } from 'kysely';
import type { FlowNode } from '../domain/flow/node.js';
import type { NotificationRule } from '../domain/contact/events.js';
import type { Rotation } from '../domain/schedule/definition.js';

export interface UsersTable {
  id: string;
  /** Normalized: trimmed, lowercased. */
  email: string;
  name: string;
  registered_at: Date;
}

export interface RefreshTokensTable {
  token_id: string;
  user_id: string;
  family_id: string;
  expires_at: Date;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  started_at: Date;
  expires_at: Date;
  absolute_expires_at: Date;
  generation: number;
  /** The session stream's revision this row was projected from. */
  version: number;
}

export interface SessionTokensTable {
  token_id: string;
  session_id: string;
  generation: number;
  token_hash: string;
}

export interface SessionCutoffsTable {
  user_id: string;
  sessions_valid_after: Date;
}

export interface TeamsTable {
  id: string;
  name: string;
  /** Which generation of the derived webhook signing secret is current (the secret is never stored). */
  webhook_secret_generation: Generated<number>;
  webhook_secret_rotated_at: Date | null;
  created_at: Date;
}

export interface TeamMembersTable {
  team_id: string;
  user_id: string;
  role: 'owner' | 'admin' | 'member' | 'viewer';
  joined_at: Date;
}

export interface InvitesTable {
  id: string;
  team_id: string;
  email: string;
  role: 'owner' | 'admin' | 'member' | 'viewer';
  status: 'pending' | 'accepted' | 'revoked';
  expires_at: Date;
  created_at: Date;
}

export interface AlertsTable {
  id: string;
  team_id: string;
  flow_id: string;
  flow_version: number;
  status: 'triggered' | 'acknowledged' | 'resolved';
  summary: string;
  details: unknown;
  severity: string;
  dedup_key: string | null;
  source: string | null;
  dedup_count: number;
  step_count: number;
  repeat: number;
  epoch: number;
  current_loop: number | null;
  current_step: number | null;
  next_escalation_at: Date | null;
  exhausted: boolean;
  triggered_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  resolved_at: Date | null;
  resolved_by: string | null;
  /** While snoozed: when it is triggered again. */
  snoozed_until: Date | null;
  /** While acknowledged with an acknowledgement timeout: when it lapses. */
  ack_timeout_at: Date | null;
  note_count: number;
  updated_at: Date;
  /** The maintenance window holding the escalation back, until when; both null once it started (or never held). */
  suppressed_by: string | null;
  suppressed_until: Date | null;
}

export interface AlertNotesTable {
  id: string;
  alert_id: string;
  team_id: string;
  text: string;
  author: string;
  created_at: Date;
}

/** An acknowledged alert that a timer will trigger again (acknowledgement timeout or end of snooze). */
export interface PendingRetriggersTable {
  alert_id: string;
  team_id: string;
  epoch: number;
  due_at: Date;
}

export interface AlertNotificationsTable {
  delivery_id: string;
  alert_id: string;
  team_id: string | null;
  loop: number;
  step: number;
  node_id: string;
  target: unknown;
  /** Whose notification rule this delivery is; null for a flow node's own target. */
  recipient_user_id: string | null;
  /** `unknown`: the last attempt was cut off mid-send, and nothing else has been recorded since. */
  status: 'pending' | 'in_flight' | 'retry_scheduled' | 'delivered' | 'abandoned' | 'cancelled' | 'unknown';
  attempts: number;
  last_error: string | null;
  requested_at: Date;
  delivered_at: Date | null;
  updated_at: Date;
}

export interface TeamOpenAlertsTable {
  team_id: string;
  /** Alerts triggered and not yet resolved. */
  open_alerts: number;
}

export interface PendingEscalationsTable {
  alert_id: string;
  team_id: string;
  epoch: number;
  loop: number;
  step: number;
  due_at: Date;
}

export interface PendingDeliveriesTable {
  delivery_id: string;
  alert_id: string;
  due_at: Date;
  /** The sender of the open attempt, if one is open. */
  sender: string | null;
}

export interface FlowsTable {
  id: string;
  team_id: string;
  name: string;
  version: number;
  repeat: number;
  ack_timeout_minutes: number | null;
  nodes: ColumnType<FlowNode[], string, string>;
  node_count: Generated<number>;
  created_at: Date;
  updated_at: Date;
}

export interface IntegrationKeysTable {
  id: string;
  key_hash: string;
  team_id: string;
  flow_id: string;
  created_at: Date;
  revoked_at: Date | null;
}

export interface ApiTokensTable {
  id: string;
  team_id: string;
  name: string;
  role: 'member' | 'viewer';
  created_by: string;
  created_at: Date;
  revoked_at: Date | null;
}

export interface SchedulesTable {
  id: string;
  team_id: string;
  name: string;
  time_zone: string;
  /** The ordered layers, as the schedule's events carry them. */
  rotations: ColumnType<Rotation[], string, string>;
  version: number;
  created_at: Date;
  updated_at: Date;
}

/** Every override a schedule has had and not removed, past ones included, so past shifts show them. */
export interface ScheduleOverridesTable {
  id: string;
  schedule_id: string;
  team_id: string;
  user_id: string;
  starts_at: Date;
  ends_at: Date;
  created_at: Date;
}

/** Maintenance windows not deleted, past ones included. */
export interface MaintenanceWindowsTable {
  id: string;
  team_id: string;
  starts_at: Date;
  ends_at: Date;
  reason: string;
  /** null: every flow of the team. */
  flow_ids: ColumnType<string[] | null, string | null, string | null>;
  created_at: Date;
}

export interface ContactMethodsTable {
  id: string;
  user_id: string;
  type: 'email' | 'webhook';
  address: string | null;
  url: string | null;
  format: 'json' | 'slack' | null;
  verified: boolean;
  created_at: Date;
}

/** A person's notification rules, in order, as their contact stream last replaced them. */
export interface NotificationRulesTable {
  user_id: string;
  rules: ColumnType<NotificationRule[], string, string>;
  updated_at: Date;
}

/** An alert as incident analytics count it: when it was triggered, first acknowledged and resolved. */
export interface IncidentAlertsTable {
  alert_id: string;
  team_id: string;
  flow_id: string;
  triggered_at: Date;
  acknowledged_at: Date | null;
  resolved_at: Date | null;
}

/** A notification as incident analytics count it: whom it paged (null for a flow's own address), and whether it reached nobody. */
export interface IncidentPagesTable {
  delivery_id: string;
  alert_id: string;
  team_id: string;
  flow_id: string;
  user_id: string | null;
  requested_at: Date;
  undelivered: boolean;
}

/** An escalation step fired, with its lag behind its due time. */
export interface IncidentStepLagsTable {
  alert_id: string;
  epoch: number;
  loop: number;
  step: number;
  team_id: string;
  flow_id: string;
  fired_at: Date;
  lag_ms: number;
}

/** A team's lifecycle webhook subscriptions. */
export interface SubscriptionsTable {
  id: string;
  team_id: string;
  url: string;
  events: ColumnType<string[], string, string>;
  created_at: Date;
}

export type ReadModels = {
  flows: FlowsTable;
  integration_keys: IntegrationKeysTable;
  api_tokens: ApiTokensTable;
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  sessions: SessionsTable;
  session_tokens: SessionTokensTable;
  session_cutoffs: SessionCutoffsTable;
  teams: TeamsTable;
  team_members: TeamMembersTable;
  invites: InvitesTable;
  alerts: AlertsTable;
  alert_notifications: AlertNotificationsTable;
  alert_notes: AlertNotesTable;
  pending_retriggers: PendingRetriggersTable;
  team_open_alerts: TeamOpenAlertsTable;
  pending_escalations: PendingEscalationsTable;
  pending_deliveries: PendingDeliveriesTable;
  schedules: SchedulesTable;
  schedule_overrides: ScheduleOverridesTable;
  contact_methods: ContactMethodsTable;
  notification_rules: NotificationRulesTable;
  maintenance_windows: MaintenanceWindowsTable;
  incident_alerts: IncidentAlertsTable;
  incident_pages: IncidentPagesTable;
  incident_step_lags: IncidentStepLagsTable;
  subscriptions: SubscriptionsTable;
};
