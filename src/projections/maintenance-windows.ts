import type { Selectable } from 'kysely';
import type { MaintenanceEvent } from '../domain/maintenance/events.js';
import { defineProjection } from './projection.js';
import type { MaintenanceWindowsTable } from './read-models.js';

/** The team's maintenance windows; a deleted one leaves the table, one that ran its course stays (it is past). */
export const maintenanceWindowsProjection = defineProjection<{ maintenance_windows: Selectable<MaintenanceWindowsTable> }, MaintenanceEvent>()({
  name: 'maintenance-windows',
  keys: { maintenance_windows: ['id'] },
  handlers: {
    MaintenanceWindowCreated({ maintenance_windows }, { data: e }) {
      maintenance_windows.put({
        id: e.windowId, team_id: e.teamId, starts_at: new Date(e.start), ends_at: new Date(e.end), reason: e.reason, flow_ids: e.flowIds,
        created_at: new Date(e.createdAt),
      });
    },
    MaintenanceWindowEnded: ({ maintenance_windows }, { data }) => maintenance_windows.delete({ id: data.windowId }),
  },
});
