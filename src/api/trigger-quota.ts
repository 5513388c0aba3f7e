import type { Pool } from '../infra/postgres.js';
import { HttpProblem } from './problem.js';

export interface TriggerQuotaLimits {
  triggersPerMinute: number;
  openAlerts: number;
}

const WINDOW_MS = 60_000;

/**
 * Per-team admission of triggers, so one team's storm (or one Alertmanager request of a thousand alerts) cannot
 * take the engine from the others: a fixed one-minute window of triggers, and a cap on the team's open alerts.
 * Counting and checking are one statement, so concurrent triggers cannot overrun the window.
 */
export class TriggerQuota {
  constructor(
    private readonly pool: Pool,
    private readonly limits: TriggerQuotaLimits,
  ) {}

  /** Counts `count` triggers against the team's window; throws 429 with Retry-After when over either limit. */
  async admit(teamId: string, count: number, now: Date): Promise<void> {
    const windowStart = new Date(Math.floor(now.getTime() / WINDOW_MS) * WINDOW_MS);
    const { rows } = await this.pool.query<{ triggers: number; open_alerts: number }>(
      // The count may lose its last few milliseconds in a crash, so it need not wait for the WAL flush; it must not
      // either: every trigger of a team updates this one row, so each would hold the row through the next one's flush.
      `with relaxed as (select set_config('synchronous_commit', 'off', true)),
       counted as (
         insert into team_trigger_windows (team_id, window_start, triggers) values ($1, $2, $3)
         on conflict (team_id, window_start) do update set triggers = team_trigger_windows.triggers + excluded.triggers
         returning triggers)
       select (select triggers from counted) as triggers, (select count(*) from relaxed) as relaxed,
              coalesce((select open_alerts from team_open_alerts where team_id = $1), 0) as open_alerts`,
      [teamId, windowStart, count],
    );
    const { triggers, open_alerts } = rows[0]!;
    if (triggers === count) {
      // The first trigger of a window prunes what no window will read again.
      void this.pool
        .query(`delete from team_trigger_windows where team_id = $1 and window_start < $2`, [teamId, new Date(windowStart.getTime() - 3_600_000)])
        .catch(() => undefined);
    }
    if (triggers > this.limits.triggersPerMinute) {
      const retryAfter = Math.max(1, Math.ceil((windowStart.getTime() + WINDOW_MS - now.getTime()) / 1000));
      throw quotaExceeded(`the team may trigger at most ${this.limits.triggersPerMinute} alerts a minute`, 'trigger_rate', retryAfter);
    }
    if (Number(open_alerts) + count > this.limits.openAlerts) {
      throw quotaExceeded(`the team has ${open_alerts} open alerts, at most ${this.limits.openAlerts} are allowed; resolve some`, 'open_alerts', 60);
    }
  }
}

function quotaExceeded(detail: string, quota: string, retryAfterSeconds: number): HttpProblem {
  return new HttpProblem(429, 'Too Many Requests', detail, { code: 'quota_exceeded', quota }, { 'Retry-After': String(retryAfterSeconds) });
}
