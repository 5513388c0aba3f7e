import { z } from 'zod';
import { Timestamp } from '../schemas.js';
import { TimeZone } from './time-zone.js';

export const MAX_ROTATIONS = 10;
export const MAX_PARTICIPANTS = 100;
/** Overrides that have not ended yet; ended ones leave the schedule's state, so this bounds it. */
export const MAX_LIVE_OVERRIDES = 500;
export const MAX_OVERRIDE_DAYS = 90;
/** A shift lasts at most a year. */
export const MAX_SHIFT_COUNT = { hours: 8_760, days: 365, weeks: 52 } as const;

export const ShiftUnit = z.enum(['hours', 'days', 'weeks']);
export type ShiftUnit = z.infer<typeof ShiftUnit>;

/** `hours` shifts last a fixed time; `days` and `weeks` hand off at the same local time whatever the offset. */
export const Shift = z.object({ unit: ShiftUnit, count: z.int().min(1) });
export type Shift = z.infer<typeof Shift>;

/** A layer of the schedule: its participants take turns, one shift each, from the first hand-off at `start` on. */
export const Rotation = z.object({
  id: z.uuid(),
  name: z.string(),
  participants: z.array(z.uuid()).min(1),
  start: Timestamp,
  shift: Shift,
});
export type Rotation = z.infer<typeof Rotation>;

/** Someone on call in place of whoever the rotations put there, from `start` until `end`. */
export const Override = z.object({ id: z.uuid(), userId: z.uuid(), start: Timestamp, end: Timestamp });
export type Override = z.infer<typeof Override>;

/** What on-call computation needs of a schedule: rotations are layers, later ones over earlier ones. */
export interface ScheduleDefinition {
  timeZone: string;
  rotations: readonly Rotation[];
  /** Where overrides overlap, the one later in the list wins. */
  overrides: readonly Override[];
}

export const ScheduleName = z.string().trim().min(1).max(200);

export const ShiftInput = z
  .strictObject({ unit: ShiftUnit, count: z.int().min(1) })
  .refine((shift) => shift.count <= MAX_SHIFT_COUNT[shift.unit], { message: 'a shift lasts at most a year', path: ['count'] });

/** A rotation as a user defines it; an `id` keeps an existing rotation's identity across a replacement. */
export const RotationInput = z.strictObject({
  id: z.uuid().optional(),
  name: z.string().trim().min(1).max(200),
  participants: z.array(z.uuid()).min(1).max(MAX_PARTICIPANTS),
  start: Timestamp,
  shift: ShiftInput,
});
export type RotationInput = z.infer<typeof RotationInput>;

export const ScheduleInput = z.strictObject({
  name: ScheduleName,
  timeZone: TimeZone,
  rotations: z.array(RotationInput).max(MAX_ROTATIONS).default([]),
});
export type ScheduleInput = z.infer<typeof ScheduleInput>;

/** A PATCH: the fields given replace the schedule's, rotations as a whole. */
export const SchedulePatch = z.strictObject({
  name: ScheduleName.optional(),
  timeZone: TimeZone.optional(),
  rotations: z.array(RotationInput).max(MAX_ROTATIONS).optional(),
});
export type SchedulePatch = z.infer<typeof SchedulePatch>;

export const OverrideInput = z
  .strictObject({ userId: z.uuid(), start: Timestamp, end: Timestamp })
  .refine((override) => Date.parse(override.end) > Date.parse(override.start), { message: 'end must be after start', path: ['end'] });
export type OverrideInput = z.infer<typeof OverrideInput>;
