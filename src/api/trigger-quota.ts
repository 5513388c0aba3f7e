import type { Pool } from '../infra/postgres.js';
import { HttpProblem } from './problem.js';

export interface TriggerQuotaLimits {
  triggersPerMinute: number;
  openAlerts: number;
}

const WINDOW_MS = 60_000;

interface WaitingAdmission {
  count: number;
  settle: (counted: { triggersBefore: number; openAlerts: number }) => void;
  fail: (error: unknown) => void;
}

/** The admissions of one team and window that wait while that lane's statement is in flight. */
interface Lane {
  waiting: WaitingAdmission[];
}

/**
 * Per-team admission of triggers, so one team's storm (or one Alertmanager request of a thousand alerts) cannot
 * take the engine from the others: a fixed one-minute window of triggers, and a cap on the team's open alerts.
 * Counting and checking are one statement, so concurrent triggers cannot overrun the window. Within a process, the
 * admissions of a team that arrive while its statement is in flight are counted together by the next one, each
 * still checked against its own running total.
 */
export class TriggerQuota {
  private readonly lanes = new Map<string, Lane>();

  constructor(
    private readonly pool: Pool,
    private readonly limits: TriggerQuotaLimits,
  ) {}

  /** Counts `count` triggers against the team's window; throws 429 with Retry-After when over either limit. */
  async admit(teamId: string, count: number, now: Date): Promise<void> {
    const windowStart = new Date(Math.floor(now.getTime() / WINDOW_MS) * WINDOW_MS);
    const { triggersBefore, openAlerts } = await this.count(teamId, windowStart, count);
    const triggers = triggersBefore + count;
    if (triggers > this.limits.triggersPerMinute) {
      const retryAfter = Math.max(1, Math.ceil((windowStart.getTime() + WINDOW_MS - now.getTime()) / 1000));
      throw quotaExceeded(`the team may trigger at most ${this.limits.triggersPerMinute} alerts a minute`, 'trigger_rate', retryAfter);
    }
    if (openAlerts + count > this.limits.openAlerts) {
      throw quotaExceeded(`the team has ${openAlerts} open alerts, at most ${this.limits.openAlerts} are allowed; resolve some`, 'open_alerts', 60);
    }
  }

  private count(teamId: string, windowStart: Date, count: number): Promise<{ triggersBefore: number; openAlerts: number }> {
    return new Promise((settle, fail) => {
      const key = `${teamId}/${windowStart.getTime()}`;
      const admission = { count, settle, fail };
      const lane = this.lanes.get(key);
      if (lane) {
        lane.waiting.push(admission);
        return;
      }
      this.lanes.set(key, { waiting: [] });
      void this.countTogether(key, teamId, windowStart, [admission]);
    });
  }

  private async countTogether(key: string, teamId: string, windowStart: Date, admissions: WaitingAdmission[]): Promise<void> {
    try {
      const total = admissions.reduce((sum, admission) => sum + admission.count, 0);
      const { triggers, openAlerts } = await this.countInWindow(teamId, windowStart, total);
      if (triggers === total) this.pruneOldWindows(teamId, windowStart);
      let before = triggers - total;
      for (const admission of admissions) {
        admission.settle({ triggersBefore: before, openAlerts });
        before += admission.count;
      }
    } catch (error) {
      for (const admission of admissions) admission.fail(error);
    }
    const next = this.lanes.get(key)!.waiting;
    if (next.length === 0) {
      this.lanes.delete(key);
      return;
    }
    this.lanes.set(key, { waiting: [] });
    void this.countTogether(key, teamId, windowStart, next);
  }

  private async countInWindow(teamId: string, windowStart: Date, count: number): Promise<{ triggers: number; openAlerts: number }> {
    const { rows } = await this.pool.query<{ triggers: number; open_alerts: string }>({
      name: 'trigger-quota-count',
      // The count may lose its last few milliseconds in a crash, so it need not wait for the WAL flush; it must not
      // either: every trigger of a team updates this one row, so each would hold the row through the next one's flush.
      // The setting is local to this statement's transaction; `relaxed` is selected because an unreferenced CTE never runs.
      text: `with relaxed as (select set_config('synchronous_commit', 'off', true)),
             counted as (
               insert into team_trigger_windows (team_id, window_start, triggers) values ($1, $2, $3)
               on conflict (team_id, window_start) do update set triggers = team_trigger_windows.triggers + excluded.triggers
               returning triggers)
             select (select triggers from counted) as triggers, (select count(*) from relaxed) as relaxed,
                    coalesce((select open_alerts from team_open_alerts where team_id = $1), 0) as open_alerts`,
      values: [teamId, windowStart, count],
    });
    return { triggers: rows[0]!.triggers, openAlerts: Number(rows[0]!.open_alerts) };
  }

  /** The first count of a window prunes what no window will read again. */
  private pruneOldWindows(teamId: string, windowStart: Date): void {
    void this.pool
      .query(`delete from team_trigger_windows where team_id = $1 and window_start < $2`, [teamId, new Date(windowStart.getTime() - 3_600_000)])
      .catch(() => undefined);
  }
}

function quotaExceeded(detail: string, quota: string, retryAfterSeconds: number): HttpProblem {
  return new HttpProblem(429, 'Too Many Requests', detail, { code: 'quota_exceeded', quota }, { 'Retry-After': String(retryAfterSeconds) });
}
