import pg from 'pg';
import { z } from 'zod';

/*
 * What the bench reads from PostgreSQL: server-wide statistics through the maintenance database (so that reading
 * them adds no transaction to the bench database), and the escalation facts of the bench database's event log.
 */

function maintenanceUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  return url.toString();
}

export class ServerMonitor {
  private constructor(private readonly client: pg.Client) {}

  static async connect(databaseUrl: string): Promise<ServerMonitor> {
    const client = new pg.Client({ connectionString: maintenanceUrl(databaseUrl), application_name: 'alertops-load-bench-monitor' });
    client.on('error', () => undefined);
    await client.connect();
    return new ServerMonitor(client);
  }

  async serverVersion(): Promise<string> {
    const { rows } = await this.client.query<{ server_version: string }>('show server_version');
    return rows[0]!.server_version;
  }

  /** Committed transactions of a database so far (pg_stat_database; backends report within about a second). */
  async committedTransactions(database: string): Promise<number> {
    const { rows } = await this.client.query<{ xact_commit: string }>('select xact_commit::text from pg_stat_database where datname = $1', [database]);
    return Number(rows[0]?.xact_commit ?? 0);
  }

  async backendPids(database: string): Promise<number[]> {
    const { rows } = await this.client.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [database]);
    return rows.map((row) => row.pid);
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}

const EscalationEventRow = z.object({
  event_type: z.string(),
  alert_id: z.string().nullable(),
  delivery_id: z.string().nullable(),
  step: z.number().nullable(),
  due_at: z.string().nullable(),
  fired_at: z.string().nullable(),
  attempt: z.number().nullable(),
  recorded_at: z.date(),
});

export interface ScheduledStep {
  alertId: string;
  step: number;
  dueAt: number;
}

export interface EscalationFacts {
  alerts: Set<string>;
  /** The first schedule of each (alert, step): when it is due. */
  scheduled: Map<string, ScheduledStep>;
  /** Fired steps by (alert, step), with the engine's own record of when. */
  fired: Map<string, { dueAt: number; firedAt: number }>;
  /** Notifications requested: delivery id to its alert and step. */
  requested: Map<string, { alertId: string; step: number }>;
  delivered: Set<string>;
  failedAttempts: number;
  /** Delivery ids with a send cut off mid-flight (NotificationOutcomeUnknown), and when that was recorded. */
  outcomeUnknown: Map<string, number>;
  attemptsStarted: number;
  /** Attempts started without an outcome yet: sends in flight, or cut off by a crash and not yet resolved. */
  openAttempts: number;
  events: number;
}

export const stepKey = (alertId: string, step: number) => `${alertId}/${step}`;

/** The bench database, read with one connection that counts its own transactions so they can be left out. */
export class BenchDatabase {
  transactionsIssued = 0;

  private constructor(private readonly client: pg.Client) {}

  static async connect(databaseUrl: string): Promise<BenchDatabase> {
    const client = new pg.Client({ connectionString: databaseUrl, application_name: 'alertops-load-bench-probe' });
    client.on('error', () => undefined);
    await client.connect();
    return new BenchDatabase(client);
  }

  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    this.transactionsIssued++;
    return (await this.client.query<R>(text, values)).rows;
  }

  async alertCount(): Promise<number> {
    const rows = await this.query<{ count: string }>(`select count(*)::text as count from events where event_type = 'AlertTriggered'`);
    return Number(rows[0]!.count);
  }

  /** Attempts that started and have no outcome yet: sends in flight, or cut off by a crash and not yet resolved. */
  async unresolvedAttempts(): Promise<number> {
    const rows = await this.query<{ count: string }>(
      `select count(*)::text as count from events started
       where started.event_type = 'NotificationAttemptStarted'
         and not exists (
           select 1 from events outcome
           where outcome.event_type in ('NotificationDelivered', 'NotificationFailed', 'NotificationOutcomeUnknown')
             and outcome.data->>'deliveryId' = started.data->>'deliveryId'
             and outcome.data->>'attempt' = started.data->>'attempt')`,
    );
    return Number(rows[0]!.count);
  }

  async escalationFacts(): Promise<EscalationFacts> {
    const rows = await this.query(
      `select event_type, data->>'alertId' as alert_id, data->>'deliveryId' as delivery_id, (data->>'step')::int as step,
              data->>'dueAt' as due_at, data->>'firedAt' as fired_at, (data->>'attempt')::int as attempt, recorded_at
       from events
       where event_type in ('AlertTriggered', 'EscalationStepScheduled', 'EscalationStepFired', 'NotificationRequested',
                            'NotificationAttemptStarted', 'NotificationDelivered', 'NotificationFailed', 'NotificationOutcomeUnknown')
       order by global_position`,
    );
    const [total] = await this.query<{ count: string }>('select count(*)::text as count from events');
    const facts: EscalationFacts = {
      alerts: new Set(),
      scheduled: new Map(),
      fired: new Map(),
      requested: new Map(),
      delivered: new Set(),
      failedAttempts: 0,
      outcomeUnknown: new Map(),
      attemptsStarted: 0,
      openAttempts: 0,
      events: Number(total!.count),
    };
    const attempt = (row: z.infer<typeof EscalationEventRow>) => `${row.delivery_id}#${row.attempt}`;
    const started = new Set<string>();
    const resolved = new Set<string>();
    for (const raw of rows) {
      const row = EscalationEventRow.parse(raw);
      switch (row.event_type) {
        case 'AlertTriggered':
          facts.alerts.add(row.alert_id!);
          break;
        case 'EscalationStepScheduled': {
          const key = stepKey(row.alert_id!, row.step!);
          if (!facts.scheduled.has(key)) facts.scheduled.set(key, { alertId: row.alert_id!, step: row.step!, dueAt: Date.parse(row.due_at!) });
          break;
        }
        case 'EscalationStepFired':
          facts.fired.set(stepKey(row.alert_id!, row.step!), { dueAt: Date.parse(row.due_at!), firedAt: Date.parse(row.fired_at!) });
          break;
        case 'NotificationRequested':
          facts.requested.set(row.delivery_id!, { alertId: row.alert_id!, step: row.step! });
          break;
        case 'NotificationAttemptStarted':
          facts.attemptsStarted++;
          started.add(attempt(row));
          break;
        case 'NotificationDelivered':
          facts.delivered.add(row.delivery_id!);
          resolved.add(attempt(row));
          break;
        case 'NotificationFailed':
          facts.failedAttempts++;
          resolved.add(attempt(row));
          break;
        case 'NotificationOutcomeUnknown':
          facts.outcomeUnknown.set(row.delivery_id!, row.recorded_at.getTime());
          resolved.add(attempt(row));
          break;
      }
    }
    facts.openAttempts = [...started].filter((key) => !resolved.has(key)).length;
    return facts;
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}
