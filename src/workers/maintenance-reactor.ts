import { endSuppression } from '../commands/alerts.js';
import { aggregateStream, type CommandDependencies } from '../commands/handle-command.js';
import type { AlertEvent } from '../domain/alert/events.js';
import { maintenanceWindowDecider } from '../domain/maintenance/decider.js';
import type { MaintenanceEvent } from '../domain/maintenance/events.js';
import { maintenanceWindowStreamId } from '../domain/maintenance/identity.js';
import type { ProjectedEvent } from '../projections/projection.js';
import type { Subscription } from '../projections/runner.js';

export const MAINTENANCE_REACTOR = 'maintenance-reactor';

/**
 * Wakes the alerts a deleted maintenance window holds back. It keeps, in log order and in the transaction of its
 * checkpoint, which open alert each window holds back; a window's early end then starts the escalation of exactly
 * those. An alert recorded as held back by a window that had already been deleted (its trigger read the windows
 * just before) is woken when the reactor reaches it. Waking is a fenced, idempotent command: a replayed batch
 * decides nothing new.
 */
export function maintenanceReactor(deps: CommandDependencies, clock: () => Date): Subscription {
  return {
    name: MAINTENANCE_REACTOR,
    handles: new Set<(AlertEvent | MaintenanceEvent)['type']>(['AlertSuppressed', 'SuppressionEnded', 'AlertResolved', 'MaintenanceWindowEnded']),
    async handleBatch(tx, events) {
      for (const event of events as ProjectedEvent<AlertEvent | MaintenanceEvent>[]) {
        switch (event.type) {
          case 'AlertSuppressed': {
            const { alertId, windowId } = event.data;
            const window = await aggregateStream(deps, maintenanceWindowDecider, maintenanceWindowStreamId(windowId));
            if (window.state.status === 'ended') await endSuppression(deps, { alertId, windowId, now: clock() });
            else await tx.query('insert into maintenance_suppressed_alerts (alert_id, window_id) values ($1, $2) on conflict do nothing', [alertId, windowId]);
            break;
          }
          case 'SuppressionEnded':
          case 'AlertResolved':
            await tx.query('delete from maintenance_suppressed_alerts where alert_id = $1', [event.data.alertId]);
            break;
          case 'MaintenanceWindowEnded': {
            const { windowId } = event.data;
            const { rows } = await tx.query<{ alert_id: string }>('delete from maintenance_suppressed_alerts where window_id = $1 returning alert_id', [windowId]);
            for (const { alert_id: alertId } of rows) await endSuppression(deps, { alertId, windowId, now: clock() });
            break;
          }
        }
      }
    },
  };
}
