import type { Kysely } from 'kysely';
import type { Pool } from '../../infra/postgres.js';
import type { ReadModels } from '../read-models.js';

export interface ActiveMaintenanceWindow {
  windowId: string;
  until: Date;
}

/**
 * The maintenance window holding back the team's alerts on this flow at `at`, if any. Every trigger asks: one range
 * scan of the team's windows not ended (maintenance_windows_by_team_end); windows of a team never overlap on a flow.
 */
export async function maintenanceWindowAt(pool: Pool, teamId: string, flowId: string, at: Date): Promise<ActiveMaintenanceWindow | null> {
  const { rows } = await pool.query<{ id: string; ends_at: Date }>(
    `select id, ends_at from maintenance_windows
      where team_id = $1 and ends_at > $3 and starts_at <= $3 and (flow_ids is null or flow_ids ? $2::text)
      order by ends_at desc limit 1`,
    [teamId, flowId, at],
  );
  const window = rows[0];
  return window ? { windowId: window.id, until: window.ends_at } : null;
}

export interface MaintenanceWindowView {
  id: string;
  start: Date;
  end: Date;
  reason: string;
  flowIds: string[] | null;
}

/** The team's windows that have not ended at `now` (current first, then by start), after the cursor window if given. */
export async function openMaintenanceWindows(
  db: Kysely<ReadModels>,
  teamId: string,
  now: Date,
  page: { limit: number; after?: { start: Date; id: string } },
): Promise<MaintenanceWindowView[]> {
  let select = db
    .selectFrom('maintenance_windows')
    .select(['id', 'starts_at', 'ends_at', 'reason', 'flow_ids'])
    .where('team_id', '=', teamId)
    .where('ends_at', '>', now);
  const { after } = page;
  if (after) {
    select = select.where((where) =>
      where.or([where('starts_at', '>', after.start), where.and([where('starts_at', '=', after.start), where('id', '>', after.id)])]),
    );
  }
  const rows = await select.orderBy('starts_at').orderBy('id').limit(page.limit).execute();
  return rows.map((row) => ({ id: row.id, start: row.starts_at, end: row.ends_at, reason: row.reason, flowIds: row.flow_ids }));
}

/** Which of these flow ids are flows of the team. */
export async function teamFlowsAmong(db: Kysely<ReadModels>, teamId: string, flowIds: readonly string[]): Promise<string[]> {
  const unique = [...new Set(flowIds)];
  if (unique.length === 0) return [];
  const flows = await db.selectFrom('flows').select('id').where('team_id', '=', teamId).where('id', 'in', unique).execute();
  return flows.map((flow) => flow.id);
}
