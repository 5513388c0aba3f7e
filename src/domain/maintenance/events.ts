import { z } from 'zod';
import type { EventDefinition, EventsOf } from '../../eventstore/catalog.js';
import { Timestamp } from '../schemas.js';

/** A period in which the team's alerts (or those of some of its flows: `flowIds`, null for all) page nobody. */
export const MaintenanceWindowCreated = z.object({
  windowId: z.uuid(),
  teamId: z.uuid(),
  start: Timestamp,
  end: Timestamp,
  reason: z.string(),
  flowIds: z.array(z.uuid()).nullable(),
  createdAt: Timestamp,
});

/** The window was deleted: it ends at `endedAt` instead of `end`, and the alerts it held back escalate from then. */
export const MaintenanceWindowEnded = z.object({
  windowId: z.uuid(),
  teamId: z.uuid(),
  end: Timestamp,
  endedAt: Timestamp,
});

export const maintenanceEventDefinitions = {
  MaintenanceWindowCreated: { schema: MaintenanceWindowCreated, version: 1 },
  MaintenanceWindowEnded: { schema: MaintenanceWindowEnded, version: 1 },
} satisfies Record<string, EventDefinition>;

export type MaintenanceEvent = EventsOf<typeof maintenanceEventDefinitions>;
export type MaintenanceEventOf<T extends MaintenanceEvent['type']> = Extract<MaintenanceEvent, { type: T }>;
