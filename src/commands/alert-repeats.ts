import { z } from 'zod';
import { Severity } from '../domain/alert/events.js';
import type { Pool } from '../infra/postgres.js';
import { handleAlert } from './alert-handler.js';
import type { CommandDependencies } from './handle-command.js';

/** How often, at most, an alert that keeps repeating gets a summary event in its stream. */
export const REPEAT_SUMMARY_INTERVAL_MS = 5 * 60_000;

export interface RepeatCountDependencies extends CommandDependencies {
  pool: Pool;
}

const DueSummary = z.object({ repeats: z.int().min(1), summary: z.string(), severity: Severity, last_at: z.date() });

/**
 * Counts a repeat the alert's stream no longer records one by one (the decider decided nothing for it), and
 * summarizes the count into the stream when the last summary is older than the interval.
 */
export async function countRepeat(
  deps: RepeatCountDependencies,
  input: { alertId: string; teamId: string; recordedRepeats: number; summary: string; severity: Severity; now: Date },
): Promise<void> {
  await deps.pool.query(
    `insert into alert_repeat_counts as counts (alert_id, team_id, repeats, recorded, summary, severity, last_at, summarized_at)
     values ($1, $2, $3 + 1, $3, $4, $5, $6, $6)
     on conflict (alert_id) do update
        set repeats = counts.repeats + 1, summary = excluded.summary, severity = excluded.severity,
            last_at = greatest(counts.last_at, excluded.last_at)`,
    [input.alertId, input.teamId, input.recordedRepeats, input.summary, input.severity, input.now],
  );
  await summarizeRepeats(deps, input.alertId, input.now);
}

/**
 * Appends the summary of an alert's counted repeats when one is due; true when one was appended. The claim moves
 * `summarized_at` first, so concurrent callers append once per interval; a summary that adds nothing is a no-op.
 */
export async function summarizeRepeats(deps: RepeatCountDependencies, alertId: string, now: Date): Promise<boolean> {
  const { rows } = await deps.pool.query(
    `update alert_repeat_counts set summarized_at = $2
      where alert_id = $1 and repeats > recorded and summarized_at <= $2::timestamptz - make_interval(secs => $3)
      returning repeats, summary, severity, last_at`,
    [alertId, now, REPEAT_SUMMARY_INTERVAL_MS / 1000],
  );
  if (rows.length === 0) return false;
  const due = DueSummary.parse(rows[0]);
  const result = await handleAlert(
    deps,
    alertId,
    { type: 'RecordRepeats', dedupCount: due.repeats, summary: due.summary, severity: due.severity, at: due.last_at },
    { actor: 'system:dedup' },
  );
  await deps.pool.query('update alert_repeat_counts set recorded = greatest(recorded, $2) where alert_id = $1', [alertId, due.repeats]);
  return result.events.length > 0;
}

/**
 * The periodic pass: summarizes the counts no repeat has come to summarize (the key went quiet), then forgets the
 * rows the streams hold in full. A later repeat starts a row again from the stream's count.
 */
export async function summarizeQuietRepeats(deps: RepeatCountDependencies, now: Date, limit = 200): Promise<number> {
  const { rows } = await deps.pool.query<{ alert_id: string }>(
    `select alert_id from alert_repeat_counts
      where repeats > recorded and summarized_at <= $1::timestamptz - make_interval(secs => $2)
      order by summarized_at limit $3`,
    [now, REPEAT_SUMMARY_INTERVAL_MS / 1000, limit],
  );
  let summarized = 0;
  for (const { alert_id: alertId } of rows) {
    if (await summarizeRepeats(deps, alertId, now)) summarized++;
  }
  await deps.pool.query('delete from alert_repeat_counts where repeats = recorded and last_at <= $1::timestamptz - make_interval(secs => $2)', [
    now,
    REPEAT_SUMMARY_INTERVAL_MS / 1000,
  ]);
  return summarized;
}

/** Repeats counted so far for these alerts, where that is more than their streams record yet. */
export async function countedRepeats(pool: Pool, alertIds: readonly string[]): Promise<Map<string, number>> {
  if (alertIds.length === 0) return new Map();
  const { rows } = await pool.query<{ alert_id: string; repeats: number }>(
    'select alert_id, repeats from alert_repeat_counts where alert_id = any($1::uuid[]) and repeats > recorded',
    [alertIds],
  );
  return new Map(rows.map((row) => [row.alert_id, row.repeats]));
}
