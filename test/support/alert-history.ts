import type { AlertCommand } from '../../src/domain/alert/commands.js';
import { alertDecider } from '../../src/domain/alert/decider.js';
import type { AlertEvent } from '../../src/domain/alert/events.js';
import { alertStreamId } from '../../src/domain/alert/identity.js';
import type { ReportEvent } from '../../src/domain/alert/report.js';
import { fold } from '../../src/domain/decider.js';
import type { ProjectedEvent } from '../../src/projections/projection.js';

/** A command with who sent it; events are recorded at the command's `now` (or `at`). */
export type HistoryCommand = AlertCommand & { actor?: string };

let position = 0n;

/**
 * Runs commands through the alert decider and returns the events as the log would hold them: stream versions,
 * recorded times, the team in the metadata, and log positions that keep growing across histories.
 */
export function alertHistory(alertId: string, teamId: string, steps: readonly HistoryCommand[]): ProjectedEvent<AlertEvent>[] {
  const events: AlertEvent[] = [];
  const recorded: ProjectedEvent<AlertEvent>[] = [];
  for (const { actor = 'system:test', ...command } of steps) {
    const decided = alertDecider.decide(command as AlertCommand, fold(alertDecider, events));
    const at = 'now' in command ? command.now : command.type === 'RecordRepeats' ? command.at : new Date();
    for (const event of decided) {
      position += 1n;
      recorded.push({
        ...event,
        streamId: alertStreamId(alertId),
        streamVersion: events.length,
        eventId: crypto.randomUUID(),
        metadata: { actor, correlationId: crypto.randomUUID(), causationId: null, teamId, prevHash: null, hash: 'h' },
        recordedAt: at,
        position: { transactionId: position, globalPosition: position },
      } as ProjectedEvent<AlertEvent>);
      events.push(event);
    }
  }
  return recorded;
}

/** The same events as a report reads them. */
export const reportEvents = (events: readonly ProjectedEvent[]): ReportEvent[] =>
  events.map((event) => ({ version: event.streamVersion, at: event.recordedAt.toISOString(), type: event.type, actor: event.metadata.actor, data: event.data }));
