import { type Kysely, sql } from 'kysely';
import type { ReadModels } from '../read-models.js';

/** The longest range one analytics request covers. */
export const MAX_ANALYTICS_RANGE_DAYS = 92;

/** Mean and 90th percentile of a duration, in milliseconds; null when nothing was measured. */
export interface DurationStats {
  count: number;
  mean: number | null;
  p90: number | null;
}

export interface FlowAnalytics {
  flowId: string;
  /** The flow's name now; null once it is deleted. */
  name: string | null;
  alertsTriggered: number;
  /** Trigger to first acknowledgement, over the alerts triggered in the range that were acknowledged. */
  timeToAcknowledgeMs: DurationStats;
  /** Trigger to resolution, over the alerts triggered in the range that were resolved. */
  timeToResolveMs: DurationStats;
  /** Notifications requested in the range, and those that reached nobody after their last attempt. */
  pages: number;
  undeliveredPages: number;
  /** How many times each person was paged (one per step that paged them, however many contact methods it used): on-call load. */
  pagesPerPerson: { userId: string; name: string | null; pages: number }[];
  /** Steps fired in the range and their lag behind their due time. */
  escalationLagMs: { steps: number; p99: number | null };
}

interface AlertStatsRow {
  flow_id: string;
  triggered: number;
  acknowledged: number;
  tta_mean: number | null;
  tta_p90: number | null;
  resolved: number;
  ttr_mean: number | null;
  ttr_p90: number | null;
}

/** One page of flows, by flow id: those after `after`, at most `limit`. */
export interface FlowPage {
  after?: string;
  limit: number;
}

/**
 * Per flow, over the team's alerts triggered, pages requested and steps fired in [from, to), in order of flow id: each
 * query reads the range through its (team, time) index and nothing older, so a request costs what the range holds.
 */
export async function incidentAnalytics(
  db: Kysely<ReadModels>,
  teamId: string,
  from: Date,
  to: Date,
  page: FlowPage = { limit: 100 },
): Promise<{ flows: FlowAnalytics[]; more: boolean }> {
  const after = page.after ?? '00000000-0000-0000-0000-000000000000';
  const alerts = await sql<AlertStatsRow>`
    select flow_id,
           count(*)::int as triggered,
           count(acknowledged_at)::int as acknowledged,
           avg(extract(epoch from acknowledged_at - triggered_at)::float8 * 1000) as tta_mean,
           percentile_cont(0.9) within group (order by extract(epoch from acknowledged_at - triggered_at)::float8 * 1000) as tta_p90,
           count(resolved_at)::int as resolved,
           avg(extract(epoch from resolved_at - triggered_at)::float8 * 1000) as ttr_mean,
           percentile_cont(0.9) within group (order by extract(epoch from resolved_at - triggered_at)::float8 * 1000) as ttr_p90
      from incident_alerts
     where team_id = ${teamId} and triggered_at >= ${from} and triggered_at < ${to} and flow_id > ${after}
     group by flow_id`.execute(db);
  const pages = await sql<{ flow_id: string; pages: number; undelivered: number }>`
    select flow_id, count(*)::int as pages, (count(*) filter (where undelivered))::int as undelivered
      from incident_pages
     where team_id = ${teamId} and requested_at >= ${from} and requested_at < ${to} and flow_id > ${after}
     group by flow_id`.execute(db);
  const people = await sql<{ flow_id: string; user_id: string; pages: number }>`
    select flow_id, user_id, count(distinct (alert_id, requested_at))::int as pages
      from incident_pages
     where team_id = ${teamId} and requested_at >= ${from} and requested_at < ${to} and user_id is not null and flow_id > ${after}
     group by flow_id, user_id
     order by pages desc, user_id`.execute(db);
  const lags = await sql<{ flow_id: string; steps: number; p99: number | null }>`
    select flow_id, count(*)::int as steps, percentile_cont(0.99) within group (order by lag_ms) as p99
      from incident_step_lags
     where team_id = ${teamId} and fired_at >= ${from} and fired_at < ${to} and flow_id > ${after}
     group by flow_id`.execute(db);

  const active = [...new Set([...alerts.rows, ...pages.rows, ...lags.rows].map((row) => row.flow_id))].sort();
  const flowIds = active.slice(0, page.limit);
  if (flowIds.length === 0) return { flows: [], more: false };
  const shown = new Set(flowIds);
  const userIds = [...new Set(people.rows.filter((row) => shown.has(row.flow_id)).map((row) => row.user_id))];
  const flowNames = new Map(
    (await db.selectFrom('flows').select(['id', 'name']).where('team_id', '=', teamId).where('id', 'in', flowIds).execute()).map((flow) => [flow.id, flow.name]),
  );
  const userNames = new Map(
    userIds.length === 0 ? [] : (await db.selectFrom('users').select(['id', 'name']).where('id', 'in', userIds).execute()).map((user) => [user.id, user.name]),
  );
  const byFlow = <Row extends { flow_id: string }>(rows: Row[]) => new Map(rows.map((row) => [row.flow_id, row]));
  const alertStats = byFlow(alerts.rows);
  const pageStats = byFlow(pages.rows);
  const lagStats = byFlow(lags.rows);
  const flows = flowIds.map((flowId): FlowAnalytics => {
    const alert = alertStats.get(flowId);
      const paged = pageStats.get(flowId);
      const lag = lagStats.get(flowId);
      return {
        flowId,
        name: flowNames.get(flowId) ?? null,
        alertsTriggered: alert?.triggered ?? 0,
        timeToAcknowledgeMs: { count: alert?.acknowledged ?? 0, mean: alert?.tta_mean ?? null, p90: alert?.tta_p90 ?? null },
        timeToResolveMs: { count: alert?.resolved ?? 0, mean: alert?.ttr_mean ?? null, p90: alert?.ttr_p90 ?? null },
        pages: paged?.pages ?? 0,
        undeliveredPages: paged?.undelivered ?? 0,
        pagesPerPerson: people.rows
          .filter((row) => row.flow_id === flowId)
          .map((row) => ({ userId: row.user_id, name: userNames.get(row.user_id) ?? null, pages: row.pages })),
        escalationLagMs: { steps: lag?.steps ?? 0, p99: lag?.p99 ?? null },
      };
    });
  return { flows, more: active.length > flowIds.length };
}
