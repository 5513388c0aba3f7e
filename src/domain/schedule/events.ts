import { z } from 'zod';
import type { EventDefinition, EventsOf } from '../../eventstore/catalog.js';
import { Timestamp } from '../schemas.js';
import { Override, Rotation } from './definition.js';

/**
 * Stored zones are not checked against the runtime's zone data: a zone later renamed or withdrawn there must not
 * make the stream unreadable. Commands check zones when they are set.
 */
const StoredTimeZone = z.string().min(1);

export const ScheduleCreated = z.object({
  scheduleId: z.uuid(),
  teamId: z.uuid(),
  name: z.string(),
  timeZone: StoredTimeZone,
  rotations: z.array(Rotation),
  createdAt: Timestamp,
});

export const ScheduleRenamed = z.object({ scheduleId: z.uuid(), name: z.string(), at: Timestamp });

/** Rotation starts stay the same instants; their hand-offs keep the wall time those instants have in the new zone. */
export const ScheduleTimeZoneChanged = z.object({ scheduleId: z.uuid(), timeZone: StoredTimeZone, at: Timestamp });

/** The whole ordered list of rotations after the change. */
export const ScheduleRotationsReplaced = z.object({ scheduleId: z.uuid(), rotations: z.array(Rotation), at: Timestamp });

export const ScheduleOverrideAdded = z.object({ scheduleId: z.uuid(), override: Override, at: Timestamp });

export const ScheduleOverrideRemoved = z.object({ scheduleId: z.uuid(), overrideId: z.uuid(), at: Timestamp });

export const ScheduleDeleted = z.object({ scheduleId: z.uuid(), at: Timestamp });

export const scheduleEventDefinitions = {
  ScheduleCreated: { schema: ScheduleCreated, version: 1 },
  ScheduleRenamed: { schema: ScheduleRenamed, version: 1 },
  ScheduleTimeZoneChanged: { schema: ScheduleTimeZoneChanged, version: 1 },
  ScheduleRotationsReplaced: { schema: ScheduleRotationsReplaced, version: 1 },
  ScheduleOverrideAdded: { schema: ScheduleOverrideAdded, version: 1 },
  ScheduleOverrideRemoved: { schema: ScheduleOverrideRemoved, version: 1 },
  ScheduleDeleted: { schema: ScheduleDeleted, version: 1 },
} satisfies Record<string, EventDefinition>;

export type ScheduleEvent = EventsOf<typeof scheduleEventDefinitions>;
export type ScheduleEventOf<T extends ScheduleEvent['type']> = Extract<ScheduleEvent, { type: T }>;
